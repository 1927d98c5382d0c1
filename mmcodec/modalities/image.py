"""Images: 1 or 3 channels, 8 or 16 bits per sample, read and written losslessly.

Reading validates everything a codec relies on and raises :class:`InputError` with a one-line
message otherwise (not an image, 0×0, float samples, 2 or 4+ channels, absurd sizes).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".webp"}
MAX_PIXELS = 1 << 28        # 268 megapixels
MAX_SIDE = 1 << 16


@dataclass
class Image:
    """Pixels as (H, W, C) uint8 or uint16, with the number of significant bits."""

    pixels: np.ndarray
    bit_depth: int

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def channels(self) -> int:
        return int(self.pixels.shape[2])

    @property
    def peak(self) -> int:
        return (1 << self.bit_depth) - 1


def validate_pixels(array: np.ndarray, bit_depth: int | None = None) -> Image:
    """Check an array and wrap it as an :class:`Image` (H×W, H×W×1 or H×W×3; uint8/uint16)."""
    if not isinstance(array, np.ndarray):
        raise InputError(f"expected a numpy array, got {type(array).__name__}")
    if array.dtype not in (np.uint8, np.uint16):
        raise InputError(f"unsupported sample type {array.dtype}: only 8-bit or 16-bit unsigned integers")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3):
        raise InputError(f"unsupported image shape {tuple(array.shape)}: need 1 (grey) or 3 (RGB) channels")
    h, w = array.shape[:2]
    if h == 0 or w == 0:
        raise InputError(f"empty image ({h}×{w})")
    if h > MAX_SIDE or w > MAX_SIDE or h * w > MAX_PIXELS:
        raise InputError(f"image of {h}×{w} pixels exceeds the supported size")
    native = 8 if array.dtype == np.uint8 else 16
    depth = native if bit_depth is None else int(bit_depth)
    if not 1 <= depth <= native:
        raise InputError(f"bit depth {depth} does not fit {array.dtype}")
    if depth < native and int(array.max()) >= 1 << depth:
        raise InputError(f"sample value {int(array.max())} exceeds the stated {depth}-bit range")
    return Image(np.ascontiguousarray(array), depth)


def read_image(path: str | Path, channels: int | None = None) -> Image:
    """Read an image file; ``channels`` = 1 or 3 converts grey ↔ RGB, None keeps it as it is."""
    from PIL import Image as PILImage

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    PILImage.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with PILImage.open(path) as im:  # reads the header only: sizes are checked before decoding
            width, height = im.size
            if height > MAX_SIDE or width > MAX_SIDE or height * width > MAX_PIXELS:
                raise InputError(f"{path}: image of {height}×{width} pixels exceeds the supported size")
            if im.format in ("PNG", "TIFF"):
                array = _decode_exact(path, im.format)
            else:
                im.load()
                array = _pillow_pixels(im, path)
    except InputError:
        raise
    except PILImage.DecompressionBombError:
        raise InputError(f"{path}: image exceeds the supported size") from None
    except Exception as exc:  # every decoder failure is the file's fault, reported in one line
        raise InputError(f"{path}: not a readable image ({exc.__class__.__name__})") from None
    if array.dtype.kind == "f":
        raise InputError(f"{path}: floating-point images are not supported")
    if array.dtype not in (np.uint8, np.uint16):
        raise InputError(f"{path}: unsupported sample type {array.dtype}")
    if array.ndim == 3 and array.shape[2] in (2, 4):
        raise InputError(f"{path}: images with an alpha channel ({array.shape[2]} channels) are not supported; "
                         "drop the alpha channel first")
    image = validate_pixels(np.array(array))
    if channels is not None and channels != image.channels:
        pixels = image.pixels
        pixels = np.repeat(pixels, 3, axis=2) if channels == 3 else _luma(pixels)
        image = Image(pixels, image.bit_depth)
    return image


def _decode_exact(path: Path, file_format: str) -> np.ndarray:
    """PNG and TIFF through imagecodecs, which keeps 16-bit samples (Pillow truncates RGB48)."""
    import imagecodecs

    data = path.read_bytes()
    array = imagecodecs.png_decode(data) if file_format == "PNG" else imagecodecs.tiff_decode(data)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return np.asarray(array)


def _pillow_pixels(im, path: Path) -> np.ndarray:
    """Pixels of the other formats (JPEG, BMP, WebP, PNM, ...) through Pillow."""
    mode = im.mode
    if mode.startswith("I;16"):
        return np.asarray(im, dtype=np.uint16)
    if mode == "F":
        raise InputError(f"{path}: floating-point images are not supported")
    if mode in ("L", "RGB"):
        return np.asarray(im)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        raise InputError(f"{path}: images with an alpha channel are not supported; drop the alpha channel first")
    if mode in ("1", "P", "CMYK", "YCbCr"):
        return np.asarray(im.convert("L" if mode == "1" else "RGB"))
    raise InputError(f"{path}: unsupported image mode '{mode}'")


def _luma(rgb: np.ndarray) -> np.ndarray:
    weights = np.array([0.299, 0.587, 0.114])
    grey = np.rint((rgb.astype(np.float64) * weights).sum(axis=2, keepdims=True))
    return grey.astype(rgb.dtype)


def write_image(path: str | Path, image: Image) -> None:
    """Write losslessly as PNG (8 or 16 bits, grey or RGB)."""
    import imagecodecs

    pixels = image.pixels
    pixels = np.ascontiguousarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)  # png_encode needs C order
    Path(path).write_bytes(imagecodecs.png_encode(pixels))
