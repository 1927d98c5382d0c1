"""R + λ·D: rate in bits per pixel over every latent; MSE (×255²) or 1 − MS-SSIM distortion."""
import math

import pytest
import torch

from mmcodec.train.losses import MS_SSIM_LAMBDAS, MSE_LAMBDAS, bits_per_pixel, rate_distortion_loss


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
