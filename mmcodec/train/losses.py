"""Rate–distortion objective L = R + λ·D (Ballé et al., arXiv 1802.01436, eq. 2).

R is in bits per pixel: -Σ log2 p over every latent (y and z) divided by the number of pixels.
D is the MSE on [0, 1] samples scaled by 255² as in CompressAI's presets (so λ = 0.0067 means
the same trade-off as in the literature), or 1 - MS-SSIM, or for depth maps the thesis's
comprehensive similarity (``depth_loss.py``; holes are the pixels where x is 0).
"""
from __future__ import annotations

import math

import torch

MSE_LAMBDAS = (0.0025, 0.0035, 0.0067, 0.013, 0.025, 0.05)
MS_SSIM_LAMBDAS = (3.0, 5.0, 8.0, 16.0, 36.0, 64.0)
DEPTH_LAMBDAS = (0.0001, 0.001, 0.005)     # comprehensive similarity; RGB-D thesis, Table 3


def bits_per_pixel(likelihoods: dict[str, torch.Tensor], num_pixels: int) -> torch.Tensor:
    """Estimated rate of all latents, in bits per pixel of the batch."""
    return sum(torch.log(p).sum() for p in likelihoods.values()) / (-math.log(2) * num_pixels)


def rate_distortion_loss(out: dict, x: torch.Tensor, lmbda: float, metric: str = "mse") -> dict[str, torch.Tensor]:
    """Returns a dict with "loss", "bpp", "mse" (and "ms_ssim" / "comprehensive_similarity" for
    those metrics)."""
    n, _, h, w = x.shape
    x = x[:, : out["x_hat"].shape[1]]  # a multimodal input is [target channels, context channels]
    bpp = bits_per_pixel(out["likelihoods"], n * h * w)
    mse = torch.mean((out["x_hat"] - x) ** 2)
    result = {"bpp": bpp, "mse": mse}
    if metric == "mse":
        distortion = 255.0 ** 2 * mse
    elif metric == "ms-ssim":
        from pytorch_msssim import ms_ssim
        score = ms_ssim(out["x_hat"].clamp(0, 1), x, data_range=1.0)
        result["ms_ssim"] = score
        distortion = 1.0 - score
    elif metric == "comprehensive-similarity":
        from .depth_loss import comprehensive_similarity_loss
        distortion = comprehensive_similarity_loss(x, out["x_hat"], valid=x > 0)
        result["comprehensive_similarity"] = distortion
    else:
        raise ValueError(f"unknown distortion metric '{metric}'")
    result["loss"] = bpp + lmbda * distortion
    return result
