"""Held-out validation: the split, and the rate–distortion of the model on it."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ..codecs import LearnedCodec
from ..modalities.image import read_image
from .losses import rate_distortion_loss


def split_paths(paths: list[Path], fraction: float) -> tuple[list[Path], list[Path]]:
    """(train, validation): every round(1/fraction)-th path goes to validation."""
    if fraction <= 0 or len(paths) < 2:
        return paths, []
    every = max(2, round(1 / fraction))
    validation = paths[every - 1::every]
    held = set(validation)
    return [p for p in paths if p not in held], validation


def centre_crops(paths: list[Path], size: int, channels: int = 3) -> list[torch.Tensor]:
    crops = []
    for path in paths:
        image = read_image(path, channels=channels)
        pixels = image.pixels
        h, w = pixels.shape[:2]
        top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
        patch = pixels[top:top + size, left:left + size].astype(np.float32) / image.peak
        crops.append(torch.from_numpy(patch).permute(2, 0, 1))
    return crops


@torch.no_grad()
def validate(model: LearnedCodec, crops: list[torch.Tensor], lmbda: float, metric: str,
             device: torch.device, per_image_lambda: bool = False) -> dict[str, float]:
    """Mean loss / estimated bpp / PSNR with rounding (evaluation mode) on the crops; a
    variable-rate model (``per_image_lambda``) is given λ as its rate input."""
    was_training = model.training
    model.eval()
    totals = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0}
    for crop in crops:
        x = model.pad(crop.unsqueeze(0).to(device))
        out = model(x, lmbda=torch.full((1,), lmbda, device=device)) if per_image_lambda else model(x)
        result = rate_distortion_loss(out, x, lmbda, metric)
        totals["loss"] += result["loss"].item()
        totals["bpp"] += result["bpp"].item()
        totals["psnr"] += -10 * math.log10(max(result["mse"].item(), 1e-10))
    model.train(was_training)
    return {k: v / max(1, len(crops)) for k, v in totals.items()}
