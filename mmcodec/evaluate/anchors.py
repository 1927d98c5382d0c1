"""Classical codec anchors for rate–distortion comparison, measured as CompressAI measures its own.

Each :class:`Anchor` encodes an 8-bit RGB image (H×W×3 ``uint8``) at one setting of its quality
knob and decodes it back; :func:`run_anchor` sweeps the knob over a set of images and returns
CompressAI's results schema (``{"name", "description", "results": {"bpp", "psnr-rgb",
"ms-ssim-rgb", "encoding_time", "decoding_time"}}``), one point per setting, each the mean over
the images. Rates count every byte the library writes (headers and container included).

Settings, chosen to match what the literature compares against rather than library defaults
(each anchor's ``description`` states them in full): JPEG 4:2:0 (Pillow, as CompressAI); lossy
WebP (imagecodecs' WebP is lossless unless told); JPEG 2000 at a target *rate* per image (a
bisection over imagecodecs' PSNR-target ``level``), 4:4:4 through the ICT; JPEG XL by distance;
AVIF 4:4:4 with libaom; HEVC intra (BPG stand-in) 4:4:4 at constant QP with the perceptual
x265 tools that libheif forces on (``psy-rd``, ``psy-rdoq``, ``aq-mode``) turned off.

A setting's direction differs between anchors: for ``jpegxl`` (distance) and ``hevc`` (QP) a
larger value means fewer bits; :attr:`Anchor.rate_increases` says which.
"""
from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .metrics import ms_ssim, psnr

MS_SSIM_MIN_SIDE = 161  # MS-SSIM needs 5 scales of an 11-pixel window

JPEG2000_RATE_TOLERANCE = 0.01  # stop the search once within 1 % below the target bpp
X265_PARAMS = {"preset": "slow", "tune": "psnr", "x265:ipratio": "1", "x265:psy-rd": "0",
               "x265:psy-rdoq": "0", "x265:aq-mode": "0", "x265:pools": "1",
               "x265:frame-threads": "1"}


class Availability:
    """What every anchor (image or depth) says about itself: its description, and whether its
    library (or library feature) is usable here; needs ``name``, ``settings``, ``requirement``
    (a callable: None if usable, else why not) and ``versions`` attributes."""

    @property
    def description(self) -> str:
        """Library, versions and settings (goes into the results JSON)."""
        return f"{self.settings} [{_safe(self.versions)}]"

    def unavailable_reason(self) -> str | None:
        try:
            return self.requirement()
        except ImportError as error:
            return f"cannot import {error.name or error}"

    @property
    def available(self) -> bool:
        return self.unavailable_reason() is None

    def require(self) -> None:
        reason = self.unavailable_reason()
        if reason is not None:
            raise InputError(f"anchor {self.name!r} is unavailable here: {reason}")


@dataclass(frozen=True)
class Anchor(Availability):
    """A classical codec at fixed settings, with one quality knob.

    ``encode(pixels, quality) -> bytes`` and ``decode(bytes) -> pixels`` work on H×W×3 ``uint8``
    RGB; an anchor whose library (or library feature) is missing raises :class:`InputError`.
    """

    name: str
    settings: str
    qualities: tuple[float, ...]
    encoder: Callable[[np.ndarray, float], bytes] = field(repr=False)
    decoder: Callable[[bytes], np.ndarray] = field(repr=False)
    requirement: Callable[[], str | None] = field(repr=False)  # None if usable, else why not
    versions: Callable[[], str] = field(repr=False)
    rate_increases: bool = True  # a larger quality value gives a larger file

    def encode(self, pixels: np.ndarray, quality: float) -> bytes:
        self.require()
        return bytes(self.encoder(_rgb8(pixels), quality))

    def decode(self, data: bytes) -> np.ndarray:
        self.require()
        decoded = np.asarray(self.decoder(bytes(data)))
        if decoded.ndim != 3 or decoded.shape[2] < 3 or decoded.dtype != np.uint8:
            raise InputError(f"anchor {self.name!r} decoded {decoded.shape} {decoded.dtype}, "
                             "not H×W×3 uint8")
        return np.ascontiguousarray(decoded[:, :, :3])


def _rgb8(pixels: np.ndarray) -> np.ndarray:
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InputError(f"anchors code 8-bit RGB (H×W×3 uint8), got {pixels.shape} {pixels.dtype}")
    if min(pixels.shape[:2]) < 16:
        raise InputError(f"image {pixels.shape[1]}×{pixels.shape[0]} is too small (16 px minimum)")
    return np.ascontiguousarray(pixels)


def _safe(versions: Callable[[], str]) -> str:
    try:
        return versions()
    except Exception:  # noqa: BLE001 - a description must never fail
        return "library versions unknown"


# --- JPEG (Pillow) ----------------------------------------------------------------------------

def _pil_decode(data: bytes) -> np.ndarray:
    from PIL import Image
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def _jpeg_encode(pixels: np.ndarray, quality: float) -> bytes:
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=int(quality), subsampling="4:2:0")
    return buffer.getvalue()


def _jpeg_requirement() -> str | None:
    from PIL import features
    return None if features.check("jpg") else "Pillow was built without JPEG support"


def _pillow_versions() -> str:
    from PIL import __version__, features
    if features.check("libjpeg_turbo"):
        return f"Pillow {__version__}, libjpeg-turbo {features.version('libjpeg_turbo')}"
    return f"Pillow {__version__}, libjpeg {features.version('jpg')}"


# --- imagecodecs: WebP, JPEG 2000, JPEG XL, AVIF -----------------------------------------------

def _imagecodecs_requirement(codec: str) -> Callable[[], str | None]:
    def requirement() -> str | None:
        import imagecodecs
        constants = getattr(imagecodecs, codec, None)
        if constants is None or not getattr(constants, "available", False):
            return f"imagecodecs {imagecodecs.__version__} was built without {codec}"
        return None
    return requirement


def _imagecodecs_versions(function: str) -> Callable[[], str]:
    def versions() -> str:
        import imagecodecs
        return f"imagecodecs {imagecodecs.__version__}, {getattr(imagecodecs, function)()}"
    return versions


def _webp_encode(pixels: np.ndarray, quality: float) -> bytes:
    import imagecodecs
    return imagecodecs.webp_encode(pixels, level=float(quality), lossless=False, method=6)


def _webp_decode(data: bytes) -> np.ndarray:
    import imagecodecs
    return imagecodecs.webp_decode(data, hasalpha=False)


def _jpeg2000_at(pixels: np.ndarray, target_psnr: float) -> bytes:
    import imagecodecs
    return imagecodecs.jpeg2k_encode(pixels, level=target_psnr, codecformat="J2K", numthreads=1)


def jpeg2000_for_rate(pixels: np.ndarray, target_bpp: float, low: float = 5.0, high: float = 100.0,
                      tolerance: float = JPEG2000_RATE_TOLERANCE) -> bytes:
    """The J2K codestream whose size is closest to ``target_bpp`` without going above it.

    imagecodecs exposes only OpenJPEG's fixed-quality mode (``level`` = target PSNR in dB), so
    the target PSNR is bisected in ``[low, high]`` dB until the file lands within ``tolerance``
    below the budget or the interval is under 0.005 dB. If even ``low`` overshoots, the
    smallest file found is returned (the target is below what the codec can reach).
    """
    budget = target_bpp * pixels.shape[0] * pixels.shape[1] / 8
    below: bytes | None = None
    above: bytes | None = None
    data = _jpeg2000_at(pixels, high)
    if len(data) <= budget:
        return data
    above = data
    while high - low > 0.005:
        middle = 0.5 * (low + high)
        data = _jpeg2000_at(pixels, middle)
        if len(data) <= budget:
            low = middle
            if below is None or len(data) > len(below):
                below = data
            if len(data) >= (1 - tolerance) * budget:
                break
        else:
            high = middle
            if len(data) < len(above):
                above = data
    if below is None:
        data = _jpeg2000_at(pixels, low)
        return data if len(data) < len(above) else above
    return below


def _jpeg2000_decode(data: bytes) -> np.ndarray:
    import imagecodecs
    return imagecodecs.jpeg2k_decode(data, numthreads=1)


def _jpegxl_encode(pixels: np.ndarray, distance: float) -> bytes:
    import imagecodecs
    return imagecodecs.jpegxl_encode(pixels, distance=float(distance), effort=7, lossless=False,
                                     numthreads=1)


def _jpegxl_decode(data: bytes) -> np.ndarray:
    import imagecodecs
    return imagecodecs.jpegxl_decode(data, numthreads=1)


def _avif_encode(pixels: np.ndarray, quality: float) -> bytes:
    import imagecodecs
    avif = imagecodecs.AVIF
    try:
        return imagecodecs.avif_encode(
            pixels, level=int(quality), speed=6, pixelformat=avif.PIXEL_FORMAT.YUV444,
            codec=avif.CODEC_CHOICE.AOM, matrix=avif.MATRIX_COEFFICIENTS.BT601, numthreads=1)
    except imagecodecs.AvifError as error:
        if "No codec available" in str(error):
            raise InputError("anchor 'avif' is unavailable here: imagecodecs' libavif has no "
                             "libaom encoder") from error
        raise


def _avif_decode(data: bytes) -> np.ndarray:
    import imagecodecs
    return imagecodecs.avif_decode(data, numthreads=1)


# --- HEVC intra in HEIF (pillow-heif / libheif / x265) ------------------------------------------

def _hevc_encode(pixels: np.ndarray, qp: float) -> bytes:
    import pillow_heif
    buffer = io.BytesIO()
    heif = pillow_heif.from_bytes("RGB", (pixels.shape[1], pixels.shape[0]), pixels.tobytes())
    params = dict(X265_PARAMS, **{"x265:qp": str(int(qp))})  # libheif's CRF 'quality' is unused
    heif.save(buffer, format="HEIF", chroma=444, tile_size=0, save_nclx_profile=True,
              matrix_coefficients=6, full_range_flag=1, enc_params=params)
    return buffer.getvalue()


def _hevc_decode(data: bytes) -> np.ndarray:
    import pillow_heif
    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
    return np.asarray(heif[heif.primary_index])


def _hevc_requirement() -> str | None:
    import pillow_heif
    info = pillow_heif.libheif_info()
    if "x265" not in info.get("encoders", {}):
        return f"pillow-heif's libheif {info.get('libheif')} has no x265 encoder"
    if not any("265" in name or "hevc" in name.lower() for name in info.get("decoders", {})):
        return f"pillow-heif's libheif {info.get('libheif')} has no HEVC decoder"
    return None


def _hevc_versions() -> str:
    import pillow_heif
    info = pillow_heif.libheif_info()
    decoders = ", ".join(info.get("decoders", {}).values())
    return (f"pillow-heif {pillow_heif.__version__}, libheif {info.get('libheif')}, "
            f"{info.get('encoders', {}).get('x265')}, {decoders}")


ANCHORS: dict[str, Anchor] = {anchor.name: anchor for anchor in [
    Anchor("jpeg", "JPEG: Pillow, quality q (1-100), YCbCr 4:2:0, standard Huffman tables, "
           "JFIF file", (3, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90),
           _jpeg_encode, _pil_decode, _jpeg_requirement, _pillow_versions),
    Anchor("webp", "WebP: libwebp via imagecodecs.webp_encode, lossy, level q (0-100), method=6, "
           "YUV 4:2:0, RIFF file", (0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 85, 90),
           _webp_encode, _webp_decode, _imagecodecs_requirement("WEBP"),
           _imagecodecs_versions("webp_version")),
    Anchor("jpeg2000", "JPEG 2000: OpenJPEG via imagecodecs.jpeg2k_encode; setting = target bpp "
           "per image, reached by bisecting the PSNR target (level) for the largest file not "
           "above it (within 1 %); RGB 4:4:4 through the irreversible colour transform (ICT), "
           "9/7 wavelet, up to 5 decompositions, 64x64 code blocks, one tile, one layer, RPCL, "
           "raw J2K codestream; encoding_time includes the search",
           (0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0),
           jpeg2000_for_rate, _jpeg2000_decode, _imagecodecs_requirement("JPEG2K"),
           _imagecodecs_versions("jpeg2k_version")),
    Anchor("jpegxl", "JPEG XL: libjxl via imagecodecs.jpegxl_encode, lossy (VarDCT), Butteraugli "
           "distance d (smaller is better), effort=7, XYB colour space (no chroma subsampling), "
           "bare codestream", (25, 18, 13, 9, 6.5, 4.5, 3.2, 2.3, 1.7, 1.3, 1.0, 0.8),
           _jpegxl_encode, _jpegxl_decode, _imagecodecs_requirement("JPEGXL"),
           _imagecodecs_versions("jpegxl_version"), rate_increases=False),
    Anchor("avif", "AVIF: libavif + libaom via imagecodecs.avif_encode, quality q (0-100), "
           "speed=6, YUV 4:4:4 8-bit, BT.601 full range, AVIF file",
           (0, 10, 20, 30, 40, 50, 58, 65, 72, 78, 83, 87),
           _avif_encode, _avif_decode, _imagecodecs_requirement("AVIF"),
           _imagecodecs_versions("avif_version")),
    Anchor("hevc", "HEVC intra (BPG stand-in): libheif + x265 via pillow-heif, constant QP q "
           "(x265 qp, ipratio=1), YCbCr 4:4:4 BT.601 full range, preset slow, tune psnr, "
           "psy-rd=0, psy-rdoq=0, aq-mode=0, HEIF file (~370 bytes of container), decoded with "
           "libde265", (46, 43, 40, 37, 34, 31, 28, 25, 22, 19),
           _hevc_encode, _hevc_decode, _hevc_requirement, _hevc_versions, rate_increases=False),
]}


def timed_round_trip(anchor, array: np.ndarray, quality) -> tuple[bytes, np.ndarray, float, float]:
    """(bytes, decoded array, encode seconds, decode seconds) of one anchor on one input; a
    decoded array of another shape raises :class:`InputError`. For image and depth anchors."""
    start = time.perf_counter()
    data = anchor.encode(array, quality)
    encoding_time = time.perf_counter() - start
    start = time.perf_counter()
    decoded = anchor.decode(data)
    decoding_time = time.perf_counter() - start
    if decoded.shape != array.shape:
        raise InputError(f"anchor {anchor.name!r} decoded {decoded.shape}, expected {array.shape}")
    return data, decoded, encoding_time, decoding_time


def _measure(anchor: Anchor, image: np.ndarray, quality: float) -> dict[str, float]:
    data, decoded, encoding_time, decoding_time = timed_round_trip(anchor, image, quality)
    row = {"bpp": 8 * len(data) / (image.shape[0] * image.shape[1]),
           "psnr-rgb": psnr(image, decoded, 255.0),
           "encoding_time": encoding_time, "decoding_time": decoding_time}
    if min(image.shape[:2]) >= MS_SSIM_MIN_SIDE:
        row["ms-ssim-rgb"] = ms_ssim(image, decoded, peak=255.0)
    return row


def run_anchor(anchor: Anchor, images: Sequence[np.ndarray], qualities: Sequence[float] | None = None,
               progress: bool = False) -> dict:
    """Sweep ``anchor`` over ``qualities`` (default: its own) on ``images`` (H×W×3 uint8).

    Returns ``{"name", "description", "results"}`` with, per setting, the mean over images of bpp,
    PSNR (8-bit RGB, peak 255, per image then averaged), MS-SSIM (RGB, only over images whose
    shorter side is ≥ 161 px; the key is absent if none is) and encode / decode seconds per
    image; ``results["quality"]`` holds the settings. Points are sorted by bpp.
    """
    anchor.require()
    images = [_rgb8(image) for image in images]
    if not images:
        raise InputError("run_anchor needs at least one image")
    settings = list(anchor.qualities if qualities is None else qualities)
    if progress:
        from tqdm import tqdm
        settings = tqdm(settings, desc=anchor.name, unit="setting")
    points = []
    for quality in settings:
        rows = [_measure(anchor, image, quality) for image in images]
        point: dict[str, float] = {"quality": quality}
        for key in ("bpp", "psnr-rgb", "ms-ssim-rgb", "encoding_time", "decoding_time"):
            values = [row[key] for row in rows if key in row]
            if values:
                point[key] = float(np.mean(values))
        points.append(point)
    points.sort(key=lambda p: (p["bpp"], p["psnr-rgb"]))
    keys = [k for k in ("bpp", "psnr-rgb", "ms-ssim-rgb", "encoding_time", "decoding_time", "quality")
            if all(k in p for p in points)]
    return {"name": anchor.name, "description": anchor.description,
            "results": {k: [p[k] for p in points] for k in keys}}
