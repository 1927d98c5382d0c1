"""R + λ·D: rate in bits per pixel over every latent; MSE (×255²) or 1 − MS-SSIM distortion."""
import math

import pytest
import torch

from mmcodec.train.losses import (
    MS_SSIM_LAMBDAS,
    MSE_LAMBDAS,
    bits_per_pixel,
    bits_per_pixel_per_image,
    rate_distortion_loss,
    sample_lambdas,
)


def test_bits_per_pixel_sums_every_latent() -> None:
    likelihoods = {"y": torch.full((1, 4, 2, 2), 0.5), "z": torch.full((1, 2, 1, 1), 0.25)}
    assert bits_per_pixel(likelihoods, 8).item() == pytest.approx((16 * 1 + 2 * 2) / 8)


@pytest.mark.parametrize("metric", ["mse", "ms-ssim"])
def test_loss_combines_rate_and_distortion(metric: str) -> None:
    torch.manual_seed(0)
    x = torch.rand(1, 3, 176, 176)
    x_hat = (x + 0.05 * torch.randn_like(x)).clamp(0, 1)
    out = {"x_hat": x_hat, "likelihoods": {"y": torch.full((1, 8, 11, 11), 0.5)}}
    result = rate_distortion_loss(out, x, 0.01, metric)
    bpp = 8 * 11 * 11 / (176 * 176)
    assert result["bpp"].item() == pytest.approx(bpp)
    if metric == "mse":
        expected = bpp + 0.01 * 255 ** 2 * torch.mean((x_hat - x) ** 2).item()
    else:
        expected = bpp + 0.01 * (1 - result["ms_ssim"].item())
        assert 0 < result["ms_ssim"].item() < 1
    assert result["loss"].item() == pytest.approx(expected, rel=1e-5)


def test_presets_are_the_papers() -> None:
    assert MSE_LAMBDAS == (0.0025, 0.0035, 0.0067, 0.013, 0.025, 0.05)
    assert MS_SSIM_LAMBDAS == (3.0, 5.0, 8.0, 16.0, 36.0, 64.0)
    assert not math.isnan(sum(MSE_LAMBDAS))
    with pytest.raises(ValueError):
        rate_distortion_loss({"x_hat": torch.zeros(1, 3, 8, 8), "likelihoods": {}}, torch.zeros(1, 3, 8, 8), 1, "l1")


@pytest.mark.parametrize("metric", ["mse", "ms-ssim"])
def test_one_lambda_per_image_weighs_each_image(metric: str) -> None:
    torch.manual_seed(0)
    x = torch.rand(2, 3, 176, 176)
    x_hat = (x + torch.tensor([0.02, 0.08]).view(2, 1, 1, 1) * torch.randn_like(x)).clamp(0, 1)
    likelihoods = torch.rand(2, 8, 11, 11) * 0.9 + 0.05
    out = {"x_hat": x_hat, "likelihoods": {"y": likelihoods}}
    same = rate_distortion_loss(out, x, torch.full((2,), 0.01), metric)
    batch = rate_distortion_loss(out, x, 0.01, metric)
    for key in ("loss", "bpp", "mse"):                     # one λ for all: the batch formula
        assert same[key].item() == pytest.approx(batch[key].item(), rel=1e-5)
    mixed = rate_distortion_loss(out, x, torch.tensor([0.002, 0.05]), metric)
    alone = [rate_distortion_loss({"x_hat": x_hat[i:i + 1], "likelihoods": {"y": likelihoods[i:i + 1]}},
                                  x[i:i + 1], lmbda, metric) for i, lmbda in enumerate((0.002, 0.05))]
    assert mixed["loss"].item() == pytest.approx((alone[0]["loss"] + alone[1]["loss"]).item() / 2, rel=1e-5)
    assert mixed["bpp"].item() == pytest.approx(batch["bpp"].item(), rel=1e-6)
    assert bits_per_pixel_per_image(out["likelihoods"], 176 * 176).shape == (2,)


def test_one_lambda_per_image_refusals() -> None:
    out = {"x_hat": torch.zeros(2, 1, 16, 16), "likelihoods": {"y": torch.full((2, 1, 1, 1), 0.5)}}
    with pytest.raises(ValueError, match="one λ per image"):
        rate_distortion_loss(out, torch.zeros(2, 1, 16, 16), torch.ones(3), "mse")
    with pytest.raises(ValueError, match="mse or ms-ssim"):
        rate_distortion_loss(out, torch.ones(2, 1, 16, 16), torch.ones(2), "comprehensive-similarity")


def test_sampled_lambdas_are_log_uniform_and_reproducible() -> None:
    lmbdas = sample_lambdas(0.0025, 0.05, 4000, seed=3)
    assert torch.equal(lmbdas, sample_lambdas(0.0025, 0.05, 4000, seed=3))
    assert not torch.equal(lmbdas, sample_lambdas(0.0025, 0.05, 4000, seed=4))
    assert lmbdas.min() >= 0.0025 and lmbdas.max() <= 0.05
    # log-uniform: the median is the geometric mean of the bounds, a quarter below 0.0025·20^¼
    assert lmbdas.median().item() == pytest.approx(math.sqrt(0.0025 * 0.05), rel=0.08)
    assert (lmbdas < 0.0025 * 20 ** 0.25).float().mean().item() == pytest.approx(0.25, abs=0.03)
    with pytest.raises(ValueError):
        sample_lambdas(0.05, 0.0025, 4, seed=0)
