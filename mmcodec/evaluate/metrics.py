"""Distortion metrics on integer images (H×W×C arrays of the same shape and dtype)."""
from __future__ import annotations

import math

import numpy as np


def mse(reference: np.ndarray, decoded: np.ndarray) -> float:
    if reference.shape != decoded.shape:
        raise ValueError(f"shape mismatch {reference.shape} vs {decoded.shape}")
    diff = reference.astype(np.float64) - decoded.astype(np.float64)
    return float(np.mean(diff * diff))


def psnr(reference: np.ndarray, decoded: np.ndarray, peak: float = 255.0) -> float:
    """10·log10(peak² / MSE) in dB; ``inf`` for identical images."""
    error = mse(reference, decoded)
    return math.inf if error == 0 else 10.0 * math.log10(peak * peak / error)


def ms_ssim(reference: np.ndarray, decoded: np.ndarray, peak: float = 255.0) -> float:
    """MS-SSIM (Wang et al. 2003) via pytorch-msssim, averaged over channels."""
    import torch
    from pytorch_msssim import ms_ssim as _ms_ssim

    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.float32)).permute(2, 0, 1).unsqueeze(0)

    return float(_ms_ssim(tensor(reference), tensor(decoded), data_range=peak))


def ms_ssim_db(value: float) -> float:
    """MS-SSIM in dB: -10·log10(1 - MS-SSIM)."""
    return math.inf if value >= 1.0 else -10.0 * math.log10(1.0 - value)
