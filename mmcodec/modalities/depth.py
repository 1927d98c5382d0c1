"""Depth maps: single-channel uint16 with a unit, holes (0 = no measurement) kept apart.

Units (``../shared/datasets/README.md``): ``mm`` (RGB-D-D, ICL-NUIM, 7-Scenes, Redwood), ``tum``
(TUM RGB-D: 5000 units per metre, 0.2 mm), ``sun`` (SUN RGB-D: millimetres stored with a 3-bit
rotation, value = (d >> 3 | d << 13) & 0xFFFF) and ``raw`` (unknown scale, e.g. NYU's raw
Kinect values: coded as if millimetres). Codecs work in millimetres; :func:`to_millimetres`
and :func:`from_millimetres` convert, and a hole stays 0 both ways.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .image import read_image, validate_pixels

DEPTH_UNITS = ("mm", "tum", "sun", "raw")
TUM_UNITS_PER_MM = 5.0


@dataclass
class DepthMap:
    """Depth samples as (H, W) uint16 in ``unit``; 0 marks a hole."""

    pixels: np.ndarray
    unit: str = "mm"

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def valid(self) -> np.ndarray:
        """True where there is a measurement."""
        return self.pixels != 0

    def millimetres(self) -> np.ndarray:
        return to_millimetres(self.pixels, self.unit)


def check_unit(unit: str) -> str:
    if unit not in DEPTH_UNITS:
        raise InputError(f"unknown depth unit '{unit}' (known: {', '.join(DEPTH_UNITS)})")
    return unit


def validate_depth(array: np.ndarray, unit: str = "mm") -> DepthMap:
    """Check an array (H×W or H×W×1 uint16) and wrap it as a :class:`DepthMap`."""
    check_unit(unit)
    if not isinstance(array, np.ndarray):
        raise InputError(f"expected a numpy array, got {type(array).__name__}")
    if array.dtype != np.uint16:
        raise InputError(f"depth must be 16-bit unsigned integers, got {array.dtype}")
    image = validate_pixels(array)
    if image.channels != 1:
        raise InputError(f"depth must have one channel, got {image.channels}")
    return DepthMap(np.ascontiguousarray(image.pixels[:, :, 0]), unit)


def read_depth(path: str | Path, unit: str = "mm") -> DepthMap:
    """Read a 16-bit single-channel PNG/TIFF depth map (8-bit or colour files are refused)."""
    check_unit(unit)
    image = read_image(path)
    if image.pixels.dtype != np.uint16 or image.channels != 1:
        kind = f"{image.channels}-channel {image.pixels.dtype}"
        raise InputError(f"{path}: a depth map must be a 16-bit single-channel image, got {kind}")
    return DepthMap(np.ascontiguousarray(image.pixels[:, :, 0]), unit)


def write_depth(path: str | Path, depth: DepthMap) -> None:
    """Write losslessly as a 16-bit grey PNG."""
    import imagecodecs

    Path(path).write_bytes(imagecodecs.png_encode(np.ascontiguousarray(depth.pixels)))


def to_millimetres(pixels: np.ndarray, unit: str) -> np.ndarray:
    """Float32 millimetres (holes stay 0)."""
    check_unit(unit)
    if unit == "sun":
        p = pixels.astype(np.uint16)
        pixels = (p >> 3) | (p << 13)
    mm = pixels.astype(np.float32)
    return mm / TUM_UNITS_PER_MM if unit == "tum" else mm


def from_millimetres(mm: np.ndarray, unit: str, valid: np.ndarray | None = None) -> np.ndarray:
    """uint16 samples in ``unit`` from millimetres; holes (``~valid``) become 0 and every valid
    sample at least 1, so the hole mask survives the round trip exactly."""
    check_unit(unit)
    scaled = np.asarray(mm, dtype=np.float64) * (TUM_UNITS_PER_MM if unit == "tum" else 1.0)
    values = np.clip(np.rint(scaled), 0, 65535).astype(np.uint16)
    if valid is not None:
        values = np.where(valid, np.maximum(values, 1), 0).astype(np.uint16)
    if unit == "sun":   # the inverse rotation: every 16-bit millimetre value has its stored form
        values = (values << 3) | (values >> 13)
    return values


def fill_holes(mm: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Holes filled smoothly from their surroundings (push–pull over a 2× pyramid), so a codec
    does not spend bits on the jump to 0; valid samples are returned unchanged."""
    if valid.all():
        return mm.astype(np.float32)
    if not valid.any():
        return np.zeros_like(mm, dtype=np.float32)
    values = np.where(valid, mm, 0).astype(np.float64)
    weights = valid.astype(np.float64)
    filled = _push_pull(values, weights)
    return np.where(valid, mm, filled).astype(np.float32)


def coding_plane(depth: DepthMap) -> np.ndarray:
    """The depth as the learned depth codecs take it: millimetres / 65535 (the 16-bit range) as
    float32 H×W, holes filled (:func:`fill_holes`)."""
    mm = fill_holes(depth.millimetres(), depth.valid)
    return (np.clip(mm, 0, 65535) / 65535.0).astype(np.float32)


def _push_pull(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean pyramid down to where every cell has support, then back up."""
    h, w = values.shape
    if weights.min() > 0:
        return values / weights
    if min(h, w) == 1:  # cannot halve further: holes take the weighted mean of the rest
        own = values / np.maximum(weights, 1e-12)
        return np.where(weights > 0, own, values.sum() / weights.sum())
    ph, pw = h + h % 2, w + w % 2
    v = np.pad(values, ((0, ph - h), (0, pw - w)))
    wt = np.pad(weights, ((0, ph - h), (0, pw - w)))
    v_sum = v.reshape(ph // 2, 2, pw // 2, 2).sum(axis=(1, 3))
    w_sum = wt.reshape(ph // 2, 2, pw // 2, 2).sum(axis=(1, 3))
    coarse = _push_pull(v_sum, w_sum)                     # a filled map at half resolution
    up = np.repeat(np.repeat(coarse, 2, axis=0), 2, axis=1)[:h, :w]
    own = values / np.maximum(weights, 1e-12)
    return np.where(weights > 0, own, up)
