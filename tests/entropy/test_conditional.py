"""Conditional Gaussian / Laplace models: likelihoods, snapped scale tables, exact coding."""
import pytest
import torch

from mmcodec.entropy.conditional import GaussianConditional, LaplaceConditional, default_scale_table
from mmcodec.entropy.quantization import straight_through_round

MODELS = [GaussianConditional, LaplaceConditional]


@pytest.mark.parametrize("cls", MODELS)
def test_likelihoods_sum_to_one(cls) -> None:
    model = cls().eval()
    values = torch.arange(-400, 401, dtype=torch.float32).view(1, 1, -1)
    for scale, mean in [(0.3, 0.2), (2.0, -1.4), (40.0, 3.3)]:
        likelihoods = model.likelihood(values, torch.full_like(values, scale), torch.full_like(values, mean))
        assert abs(likelihoods.sum().item() - 1.0) < 1e-3


@pytest.mark.parametrize("cls", MODELS)
def test_round_trip_with_escapes(cls) -> None:
    torch.manual_seed(0)
    model = cls().eval()
    y = torch.randn(2, 6, 10, 12) * 8
    scales = torch.rand_like(y) * 10 + 0.05
    means = torch.randn_like(y)
    y[0, 0, 0, :3] = torch.tensor([1e5, -1e5, 3e6])
    data, y_hat = model.compress(y, scales, means)
    assert torch.equal(model.decompress(data, scales, means), y_hat)
    assert torch.equal(y_hat, torch.round(y - means) + means)


@pytest.mark.parametrize("cls", MODELS)
def test_stream_size_matches_estimated_rate(cls) -> None:
    torch.manual_seed(1)
    model = cls().eval()
    scales = torch.exp(torch.rand(1, 16, 64, 64) * 4 - 1)
    means = torch.randn_like(scales) * 3
    noise = torch.randn_like(scales) if cls is GaussianConditional else \
        torch.distributions.Laplace(0.0, 1.0).sample(scales.shape)
    y = means + scales * noise
    data, _ = model.compress(y, scales, means)
    _, likelihoods = model(y, scales, means, training=False)
    estimate = float(-torch.log2(likelihoods).sum())
    assert abs(8 * len(data) - estimate) <= 0.01 * estimate + 64


def test_training_path_noise_and_straight_through() -> None:
    model = GaussianConditional().train()
    y = torch.randn(1, 2, 5, 5, requires_grad=True)
    means = torch.zeros_like(y)
    y_hat, likelihoods = model(y, torch.ones_like(y), means, straight_through=True)
    assert torch.equal(y_hat.detach(), torch.round(y.detach()))
    y_hat.sum().backward()
    assert torch.equal(y.grad, torch.ones_like(y))
    assert bool((likelihoods > 0).all())
    x = torch.tensor([0.4, 0.6])
    assert torch.equal(straight_through_round(x), torch.tensor([0.0, 1.0]))


def test_scale_indexes_snap_to_the_nearest_table_entry() -> None:
    model = GaussianConditional()
    table = default_scale_table()
    assert model.scale_indexes(table).tolist() == list(range(table.numel()))
    assert model.scale_indexes(torch.tensor([1e-6, 1e6])).tolist() == [0, table.numel() - 1]


def test_exact_scale_indexes_snap_as_the_logarithm_does_with_exact_thresholds() -> None:
    model = GaussianConditional()
    table = default_scale_table().double()
    assert model.exact_scale_indexes(table).tolist() == list(range(table.numel()))
    assert model.exact_scale_indexes(torch.tensor([1e-6, 1e6], dtype=torch.float64)).tolist() == [0, table.numel() - 1]
    scales = torch.exp(torch.linspace(-3.0, 6.0, 10_001, dtype=torch.float64))   # 0.05 … 403
    assert (model.exact_scale_indexes(scales) == model.scale_indexes(scales)).all()
    midpoint = torch.sqrt(table[10] * table[11])    # the threshold itself goes up, the next value down goes down
    below = torch.nextafter(midpoint, torch.tensor(0.0, dtype=torch.float64))
    assert model.exact_scale_indexes(torch.stack([below, midpoint])).tolist() == [10, 11]
