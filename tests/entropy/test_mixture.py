"""Gaussian mixture model (arXiv 2001.01568 eq. 8): likelihoods and exact chunked coding."""
import torch

from mmcodec.entropy.mixture import GaussianMixtureConditional


def parameters(seed: int, shape=(1, 3, 4, 20, 20)):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g), torch.randn(shape, generator=g) * 4,
            torch.rand(shape, generator=g) * 3 + 0.05)


def test_likelihoods_sum_to_one() -> None:
    model = GaussianMixtureConditional(3)
    w, mu, sigma = (t[..., :1, :1] for t in parameters(0))
    values = torch.arange(-60, 61, dtype=torch.float32).view(1, 1, 1, -1).expand(1, 4, 1, -1)
    likelihoods = model.likelihood(values, w.expand(1, 3, 4, 1, 121), mu.expand(1, 3, 4, 1, 121),
                                   sigma.expand(1, 3, 4, 1, 121))
    torch.testing.assert_close(likelihoods.sum(-1).squeeze(), torch.ones(4), atol=1e-3, rtol=0)


def test_round_trip_with_escapes_and_rate() -> None:
    model = GaussianMixtureConditional(3).eval()
    w, mu, sigma = parameters(1)
    component = torch.softmax(w, 1)
    y = (component * mu).sum(1) + torch.randn(1, 4, 20, 20)
    data, y_hat = model.compress(y, w, mu, sigma)
    assert torch.equal(model.decompress(data, w, mu, sigma), y_hat)
    _, likelihoods = model(y, w, mu, sigma, training=False)
    estimate = float(-torch.log2(likelihoods).sum())
    assert abs(8 * len(data) - estimate) <= 0.02 * estimate + 96
    y[0, 0, 0, 0] = 1e6
    data, y_hat = model.compress(y, w, mu, sigma)
    assert torch.equal(model.decompress(data, w, mu, sigma), y_hat)
