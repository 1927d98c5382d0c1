"""The smallest baseline JPEG (libjpeg via Pillow, 4:2:0, as CompressAI's JPEG anchor) that
reaches a target PSNR: a bisection over the quality setting."""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from .metrics import psnr


@dataclass
class JpegPoint:
    quality: int
    size: int
    psnr: float


def jpeg_encode(pixels: np.ndarray, quality: int) -> JpegPoint:
    from PIL import Image as PILImage

    image = PILImage.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    data = buffer.getvalue()
    decoded = np.asarray(PILImage.open(io.BytesIO(data)).convert(image.mode)).reshape(pixels.shape)
    return JpegPoint(quality, len(data), psnr(pixels, decoded))


def jpeg_for_psnr(pixels: np.ndarray, target_psnr: float) -> JpegPoint | None:
    """Smallest-quality JPEG with PSNR ≥ target (8-bit only); None if quality 100 falls short."""
    if pixels.dtype != np.uint8:
        return None
    low, high = 1, 100
    best = jpeg_encode(pixels, high)
    if best.psnr < target_psnr:
        return None
    while low < high:
        middle = (low + high) // 2
        point = jpeg_encode(pixels, middle)
        if point.psnr >= target_psnr:
            best, high = point, middle
        else:
            low = middle + 1
    return best
