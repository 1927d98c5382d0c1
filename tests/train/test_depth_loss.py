"""Comprehensive similarity (thesis eq. 24): exact terms, holes excluded, differentiable, and its
place in the rate–distortion loss."""
from __future__ import annotations

import pytest
import torch
from pytorch_msssim import ms_ssim, ssim

from mmcodec.train.depth_loss import comprehensive_similarity_loss, ms_ssim_scales, multiscale_ssim
from mmcodec.train.losses import DEPTH_DISTORTION_SCALE, DEPTH_LAMBDAS, rate_distortion_loss


def smooth_depth(size: int = 64, seed: int = 0) -> torch.Tensor:
    """A smooth N×1×H×W 'depth' map in [0.2, 0.8] with a few holes (0)."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 1, 8, 8, generator=generator)
    x = 0.2 + 0.6 * torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=True)
    x = x.double()
    x[..., 10:14, 20:30] = 0.0
    x[..., 40, 5] = 0.0
    return x


def blur(x: torch.Tensor, k: int) -> torch.Tensor:
    return torch.nn.functional.avg_pool2d(x, k, stride=1, padding=k // 2, count_include_pad=False)


def structure_term(x: torch.Tensor, x_hat: torch.Tensor, valid: torch.Tensor) -> float:
    filled = torch.where(valid, x_hat, x)
    return 1.0 - multiscale_ssim(x, filled).item()


def test_identical_maps_cost_nothing() -> None:
    x = smooth_depth()
    assert comprehensive_similarity_loss(x, x.clone(), x > 0).item() == 0.0


def test_l1_term_is_gamma_weighted_mean_over_valid_pixels() -> None:
    x = smooth_depth()
    valid = x > 0
    x_hat = x + 0.01 * torch.sin(torch.arange(x.numel(), dtype=x.dtype)).reshape(x.shape)
    l1 = (x - x_hat).abs()[valid].mean().item()
    with_l1 = comprehensive_similarity_loss(x, x_hat, valid, gamma=1.0).item()
    without = comprehensive_similarity_loss(x, x_hat, valid, gamma=0.0).item()
    assert with_l1 - without == pytest.approx(l1, rel=1e-9)
    assert comprehensive_similarity_loss(x, x_hat, valid, gamma=0.1).item() == pytest.approx(without + 0.1 * l1)


def test_gradient_term_counts_only_pairs_of_valid_pixels() -> None:
    x = smooth_depth()
    valid = x > 0
    n = valid.sum().item()
    delta = 0.02
    spike = x.clone()
    spike[..., 30, 30] += delta             # interior, four valid neighbours: |g| = δ on 4 pairs
    got = comprehensive_similarity_loss(x, spike, valid, gamma=0.0).item() - structure_term(x, spike, valid)
    assert got == pytest.approx(4 * delta / n, rel=1e-9)
    beside_hole = x.clone()
    beside_hole[..., 40, 6] += delta        # (40, 5) is a hole: that pair does not count
    got = comprehensive_similarity_loss(x, beside_hole, valid, gamma=0.0).item() - structure_term(x, beside_hole, valid)
    assert got == pytest.approx(3 * delta / n, rel=1e-9)


def test_constant_offset_has_no_gradient_term() -> None:
    x = smooth_depth()
    valid = torch.ones_like(x, dtype=torch.bool)
    shifted = x + 0.05
    got = comprehensive_similarity_loss(x, shifted, valid, gamma=0.0).item()
    assert got == pytest.approx(structure_term(x, shifted, valid), abs=1e-12)


def test_values_at_holes_change_nothing() -> None:
    x = smooth_depth()
    valid = x > 0
    x_hat = blur(x, 3)
    garbage = torch.where(valid, x_hat, torch.full_like(x, 0.9))
    assert comprehensive_similarity_loss(x, garbage, valid).item() == pytest.approx(
        comprehensive_similarity_loss(x, x_hat, valid).item(), rel=1e-12)
    assert comprehensive_similarity_loss(x, garbage).item() > comprehensive_similarity_loss(x, x_hat).item()


def test_blurring_costs_more_the_stronger_it_is() -> None:
    x = smooth_depth(size=192).float()
    valid = x > 0
    losses = [comprehensive_similarity_loss(x, blur(x, k), valid).item() for k in (1, 3, 9)]
    assert losses[0] == 0.0 < losses[1] < losses[2]


def test_gradients_flow_to_the_reconstruction() -> None:
    x = smooth_depth().float()
    x_hat = (x + 0.01 * torch.randn(x.shape, generator=torch.Generator().manual_seed(1))).requires_grad_(True)
    comprehensive_similarity_loss(x, x_hat, x > 0).backward()
    grad = x_hat.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert (grad[x == 0] == 0).all()        # holes are excluded from every term


def test_ms_ssim_scales_follow_the_window_size() -> None:
    assert [ms_ssim_scales(s) for s in (10, 11, 20, 21, 160, 161, 1024)] == [0, 1, 1, 2, 4, 5, 5]


def test_multiscale_ssim_matches_pytorch_msssim_where_it_applies() -> None:
    generator = torch.Generator().manual_seed(2)
    a = torch.rand(1, 1, 168, 170, generator=generator)
    b = (a + 0.1 * torch.rand(a.shape, generator=generator)).clamp(0, 1)
    assert multiscale_ssim(a, b).item() == ms_ssim(a, b, data_range=1.0).item()
    small_a, small_b = a[..., :16, :16], b[..., :16, :16]          # one scale: plain SSIM
    assert multiscale_ssim(small_a, small_b).item() == pytest.approx(
        ssim(small_a, small_b, data_range=1.0).item(), rel=1e-6)
    assert 0 < multiscale_ssim(a[..., :64, :64], b[..., :64, :64]).item() < 1      # three scales
    with pytest.raises(ValueError):
        multiscale_ssim(a[..., :10, :10], b[..., :10, :10])


def test_shape_mismatch_is_refused() -> None:
    with pytest.raises(ValueError):
        comprehensive_similarity_loss(torch.zeros(1, 1, 32, 32), torch.zeros(1, 1, 32, 30))


def test_rate_distortion_loss_accepts_comprehensive_similarity() -> None:
    x = smooth_depth().float()
    x_hat = blur(x, 3)
    out = {"x_hat": x_hat, "likelihoods": {"y": torch.full((1, 8, 4, 4), 0.5)}}
    result = rate_distortion_loss(out, x, DEPTH_LAMBDAS[1], "comprehensive-similarity")
    distortion = comprehensive_similarity_loss(x, x_hat, x > 0)
    assert result["comprehensive_similarity"].item() == distortion.item()
    # λ·255²·D, the λ convention of CompressAI's MSE presets that the thesis's λ need (train/losses.py)
    expected = result["bpp"].item() + DEPTH_LAMBDAS[1] * 255 ** 2 * distortion.item()
    assert result["loss"].item() == pytest.approx(expected)
    assert DEPTH_DISTORTION_SCALE == 255 ** 2
    assert DEPTH_LAMBDAS == (0.0001, 0.001, 0.005)
