"""Depth-map distortion metrics (millimetres), as reported by the multimodal LIC-TCM RGB-D thesis.

Depth maps are H×W arrays of millimetres (uint16 or float). A *hole* is a pixel without a
measurement in the reference (value 0); ``valid`` marks the other pixels and defaults to
``reference > 0``. Every metric here is computed over valid pixels only.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import InputError

FLYING_PIXEL_RATIO = 20     # |error| > depth / 20 (5% of the true depth) makes a pixel "flying"


def _prepare(reference: np.ndarray, decoded: np.ndarray,
             valid: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    reference = np.asarray(reference)
    decoded = np.asarray(decoded)
    if reference.ndim != 2 or reference.shape != decoded.shape:
        raise InputError(f"depth maps must be two H×W arrays of one shape, got {reference.shape} and {decoded.shape}")
    if valid is None:
        valid = reference > 0
    valid = np.asarray(valid, dtype=bool)
    if valid.shape != reference.shape:
        raise InputError(f"valid mask shape {valid.shape} does not match the depth map {reference.shape}")
    if not valid.any():
        raise InputError("the reference depth map has no valid (non-zero) pixels")
    return reference.astype(np.float64), decoded.astype(np.float64), valid


def comprehensive_similarity(reference: np.ndarray, decoded: np.ndarray, valid: np.ndarray | None = None,
                             peak: float = 65535.0, gamma: float = 0.1) -> float:
    """Comprehensive similarity, thesis eq. 24: γ·L1 + L_grad + (1 − MS-SSIM) (lower is better).

    Both maps are divided by ``peak`` (the thesis normalises by the 16-bit range) and passed to
    ``mmcodec.train.depth_loss.comprehensive_similarity_loss`` in float32 (2.5× faster than
    float64 and equal to it to five significant digits on a Kinect frame) — the very function
    used as the training distortion. Holes are excluded from the L1 and gradient terms; in the
    MS-SSIM term the decoded map's hole pixels are replaced by the reference's (see there).
    Inputs under 161 px on the short side use fewer MS-SSIM scales (``multiscale_ssim``).
    """
    import torch

    from ..train.depth_loss import comprehensive_similarity_loss

    reference, decoded, valid = _prepare(reference, decoded, valid)
    if min(reference.shape) < 11:
        raise InputError(f"comprehensive similarity needs at least 11 px on the short side, got {reference.shape}")

    def tensor(a: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(a)[None, None]
        return t.float() if t.is_floating_point() else t

    with torch.no_grad():
        value = comprehensive_similarity_loss(tensor(reference / peak), tensor(decoded / peak),
                                              tensor(valid), gamma=gamma)
    return float(value)


def comprehensive_similarity_db(value: float) -> float:
    """-10·log10(value) in dB (``inf`` for 0). The thesis's Tables 11–13 give comprehensive
    similarity in dB without stating the conversion; this is our reading (the same form as
    its MS-SSIM dB, -10·log10(1 − MS-SSIM), applied to a distortion that is already 0 at best)."""
    return math.inf if value <= 0 else -10.0 * math.log10(value)


def depth_metrics(reference_mm: np.ndarray, decoded_mm: np.ndarray, valid: np.ndarray | None = None,
                  peak: float = 65535.0) -> dict:
    """Every depth metric for one decoded map, over valid pixels only (holes excluded).

    Keys:
      psnr                        10·log10(peak² / MSE) in dB over valid pixels, ``peak`` in mm
                                  (default the 16-bit range, as the thesis); ``float('inf')`` when
                                  the valid pixels are identical (not valid strict JSON: write
                                  with ``allow_nan`` or map it to a string).
      rmse_mm, mae_mm             root-mean-square and mean absolute error in mm.
      flying_pixels_percent       percent of valid pixels with |error| > 5% of the true depth
                                  (strictly greater; exactly 5% does not count; tested as
                                  20·|error| > depth, exact for integer millimetres).
      comprehensive_similarity    thesis eq. 24 on depth / peak (``comprehensive_similarity``).
      comprehensive_similarity_db -10·log10 of it.
      holes_kept                  decoded is 0 exactly where the reference is 0, nonzero elsewhere
                                  (this one looks at the holes, ignoring ``valid``).
      valid_pixels                number of valid pixels.

    Raises InputError on a shape mismatch or when no pixel is valid.
    """
    reference, decoded, valid = _prepare(reference_mm, decoded_mm, valid)
    truth, error = reference[valid], decoded[valid] - reference[valid]
    mse = float(np.mean(error * error))
    absolute = np.abs(error)
    similarity = comprehensive_similarity(reference, decoded, valid, peak=peak)
    return {
        "psnr": math.inf if mse == 0 else 10.0 * math.log10(peak * peak / mse),
        "rmse_mm": math.sqrt(mse),
        "mae_mm": float(np.mean(absolute)),
        "flying_pixels_percent": 100.0 * float(np.mean(absolute * FLYING_PIXEL_RATIO > truth)),
        "comprehensive_similarity": similarity,
        "comprehensive_similarity_db": comprehensive_similarity_db(similarity),
        "holes_kept": bool(np.array_equal(decoded == 0, reference == 0)),
        "valid_pixels": int(valid.sum()),
    }
