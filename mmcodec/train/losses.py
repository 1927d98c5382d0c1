"""Rate–distortion objective L = R + λ·D (Ballé et al., arXiv 1802.01436, eq. 2).

R is in bits per pixel: -Σ log2 p over every latent (y and z) divided by the number of pixels.
D is the MSE on [0, 1] samples scaled by 255² as in CompressAI's presets (so λ = 0.0067 means
the same trade-off as in the literature), or 1 - MS-SSIM, or for depth maps the thesis's
comprehensive similarity (``depth_loss.py``; holes are the pixels where x is 0), scaled by 255²
too (``DEPTH_DISTORTION_SCALE``).

That scale is our reading of the RGB-D thesis (eq. 17 with D = eq. 24, λ ∈ {0.0001, 0.001,
0.005}, its Table 3), whose training code is LIC-TCM's (CompressAI's ``λ·255²·D`` slot). Its
numbers need it: its depth baselines spend 0.003 / 0.023 / 0.043 bpp at comprehensive similarity
28.3 / 33.4 / 35.1 dB (D = 10^(−dB/10)), so λ·255²·D = 0.010 / 0.030 / 0.10 lies near those
rates, as an RD optimum's terms do, while λ·D (10⁻⁷–10⁻⁶) could not buy any bits at all. Trained
with λ·D, our small depth models did just that: 0.026–0.027 bpp, mostly the hole mask, at every λ.

Variable-rate training (Kao et al., arXiv 2305.10807, eq. 3: one model, λ drawn per image and
fed to the encoder as a λ map) weights every image of the batch by its own λ: the loss is then
the batch mean of R_i + λ_i·D_i, with R_i and D_i measured per image (MSE or 1 − MS-SSIM).
"""
from __future__ import annotations

import math

import torch

MSE_LAMBDAS = (0.0025, 0.0035, 0.0067, 0.013, 0.025, 0.05)
MS_SSIM_LAMBDAS = (3.0, 5.0, 8.0, 16.0, 36.0, 64.0)
DEPTH_LAMBDAS = (0.0001, 0.001, 0.005)     # comprehensive similarity; RGB-D thesis, Table 3
MSE_DISTORTION_SCALE = 255.0 ** 2          # D = 255² · MSE on [0, 1] (λ as in the literature)
DEPTH_DISTORTION_SCALE = 255.0 ** 2        # D = 255² · comprehensive similarity (see above)


def bits_per_pixel(likelihoods: dict[str, torch.Tensor], num_pixels: int) -> torch.Tensor:
    """Estimated rate of all latents, in bits per pixel of the batch."""
    return sum(torch.log(p).sum() for p in likelihoods.values()) / (-math.log(2) * num_pixels)


def sample_lambdas(low: float, high: float, count: int, seed: int) -> torch.Tensor:
    """``count`` trade-offs drawn log-uniformly in [low, high] (variable-rate training: every λ
    of the range as likely per octave), reproducibly from ``seed``."""
    if not 0 < low < high:
        raise ValueError(f"need 0 < low < high for the λ range, not [{low}, {high}]")
    u = torch.rand(count, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return torch.exp(math.log(low) + u * (math.log(high) - math.log(low))).float()


def bits_per_pixel_per_image(likelihoods: dict[str, torch.Tensor], pixels_per_image: int) -> torch.Tensor:
    """Estimated rate of all latents of each image of the batch, in bits per pixel: shape (B,)."""
    bits = sum(torch.log(p).flatten(1).sum(dim=1) for p in likelihoods.values())
    return bits / (-math.log(2) * pixels_per_image)


def rate_distortion_loss(out: dict, x: torch.Tensor, lmbda: float | torch.Tensor,
                         metric: str = "mse") -> dict[str, torch.Tensor]:
    """Returns a dict with "loss", "bpp", "mse" (and "ms_ssim" / "comprehensive_similarity" for
    those metrics). ``lmbda`` is one trade-off for the batch, or a (B,) tensor with one per image
    (variable-rate training; MSE and MS-SSIM only)."""
    if isinstance(lmbda, torch.Tensor):
        return _per_image_loss(out, x, lmbda, metric)
    n, _, h, w = x.shape
    x = x[:, : out["x_hat"].shape[1]]  # a multimodal input is [target channels, context channels]
    bpp = bits_per_pixel(out["likelihoods"], n * h * w)
    mse = torch.mean((out["x_hat"] - x) ** 2)
    result = {"bpp": bpp, "mse": mse}
    if metric == "mse":
        distortion = MSE_DISTORTION_SCALE * mse
    elif metric == "ms-ssim":
        from pytorch_msssim import ms_ssim
        score = ms_ssim(out["x_hat"].clamp(0, 1), x, data_range=1.0)
        result["ms_ssim"] = score
        distortion = 1.0 - score
    elif metric == "comprehensive-similarity":
        from .depth_loss import comprehensive_similarity_loss
        similarity = comprehensive_similarity_loss(x, out["x_hat"], valid=x > 0)
        result["comprehensive_similarity"] = similarity
        distortion = DEPTH_DISTORTION_SCALE * similarity
    else:
        raise ValueError(f"unknown distortion metric '{metric}'")
    result["loss"] = bpp + lmbda * distortion
    return result


def _per_image_loss(out: dict, x: torch.Tensor, lmbdas: torch.Tensor, metric: str) -> dict[str, torch.Tensor]:
    n, _, h, w = x.shape
    if lmbdas.shape != (n,):
        raise ValueError(f"need one λ per image: shape ({n},), not {tuple(lmbdas.shape)}")
    x = x[:, : out["x_hat"].shape[1]]
    bpp = bits_per_pixel_per_image(out["likelihoods"], h * w)
    mse = torch.mean((out["x_hat"] - x) ** 2, dim=(1, 2, 3))
    result = {"bpp": bpp.mean(), "mse": mse.mean()}
    if metric == "mse":
        distortion = MSE_DISTORTION_SCALE * mse
    elif metric == "ms-ssim":
        from pytorch_msssim import ms_ssim
        score = ms_ssim(out["x_hat"].clamp(0, 1), x, data_range=1.0, size_average=False)
        result["ms_ssim"] = score.mean()
        distortion = 1.0 - score
    else:
        raise ValueError(f"per-image λ (variable-rate training) takes the mse or ms-ssim metric, not '{metric}'")
    result["loss"] = torch.mean(bpp + lmbdas.to(bpp) * distortion)
    return result
