"""Factorized prior (arXiv 1802.01436 appendix 6.1): a density, its quantiles, its tables."""
from functools import lru_cache

import torch

from mmcodec.entropy.factorized import FactorizedEntropyModel


def trained_model(channels: int = 4, steps: int = 150) -> FactorizedEntropyModel:
    """A fresh copy of a model fitted to Gaussian data of different widths per channel."""
    model = FactorizedEntropyModel(channels)
    model.load_state_dict(_fitted_state(channels, steps))
    return model.eval()


@lru_cache(maxsize=None)
def _fitted_state(channels: int, steps: int) -> dict:
    torch.manual_seed(0)
    model = FactorizedEntropyModel(channels)
    widths = torch.linspace(0.5, 6.0, channels).view(1, -1, 1, 1)
    main = torch.optim.Adam([p for n, p in model.named_parameters() if n != "quantiles"], lr=1e-2)
    aux = torch.optim.Adam([model.quantiles], lr=1e-1)
    for _ in range(steps):
        x = torch.randn(8, channels, 8, 8) * widths
        _, likelihoods = model(x)
        loss = -torch.log2(likelihoods).mean()
        main.zero_grad()
        loss.backward()
        main.step()
        aux_loss = model.aux_loss()
        aux.zero_grad()
        aux_loss.backward()
        aux.step()
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_likelihoods_sum_to_one_over_integers() -> None:
    model = FactorizedEntropyModel(3).eval()
    support = torch.arange(-200, 201, dtype=torch.float32).view(1, 1, -1, 1).repeat(1, 3, 1, 1)
    _, likelihoods = model(support, training=False)
    torch.testing.assert_close(likelihoods.sum(dim=2).squeeze(), torch.ones(3), atol=1e-4, rtol=0)


def test_training_adds_noise_and_evaluation_rounds() -> None:
    model = FactorizedEntropyModel(2)
    x = torch.full((1, 2, 4, 4), 0.3)
    noisy, _ = model(x, training=True)
    rounded, _ = model(x, training=False)
    assert not torch.equal(noisy, x) and (noisy - x).abs().max() <= 0.5
    assert torch.equal(rounded, torch.round(x - model.medians.view(1, -1, 1, 1)) + model.medians.view(1, -1, 1, 1))


def test_aux_loss_pulls_quantiles_to_the_tails() -> None:
    torch.manual_seed(0)
    initial = FactorizedEntropyModel(4).aux_loss().item()
    model = trained_model()
    assert model.aux_loss().item() < 0.5 * initial
    # lower quantile below the median below the upper quantile, in every channel
    q = model.quantiles[:, 0]
    assert bool(((q[:, 0] < q[:, 1]) & (q[:, 1] < q[:, 2])).all())


def test_compress_round_trip_and_rate_matches_estimate() -> None:
    model = trained_model()
    model.update()
    x = torch.randn(2, 4, 32, 32) * torch.linspace(0.5, 6.0, 4).view(1, -1, 1, 1)
    x[0, 0, 0, 0] = 1e4  # far outside every table: escaped
    data, x_hat = model.compress(x)
    decoded = model.decompress(data, tuple(x.shape))
    assert torch.equal(decoded, x_hat)
    x[0, 0, 0, 0] = 0.0
    data, _ = model.compress(x)
    _, likelihoods = model(x, training=False)
    estimate = float(-torch.log2(likelihoods.detach()).sum())
    assert abs(8 * len(data) - estimate) <= 0.01 * estimate + 64


def test_tables_travel_in_the_state_dict() -> None:
    model = trained_model(steps=20)
    model.update()
    clone = FactorizedEntropyModel(4)
    clone.load_state_dict(model.state_dict())
    assert torch.equal(clone.table_pmfs, model.table_pmfs)
    x = torch.randn(1, 4, 8, 8) * 3
    data, _ = model.compress(x)
    assert torch.equal(clone.decompress(data, (1, 4, 8, 8)), model.decompress(data, (1, 4, 8, 8)))


def test_tables_are_built_on_first_use() -> None:
    model = FactorizedEntropyModel(2).eval()
    data, x_hat = model.compress(torch.randn(1, 2, 4, 4))
    assert torch.equal(model.decompress(data, (1, 2, 4, 4)), x_hat)
