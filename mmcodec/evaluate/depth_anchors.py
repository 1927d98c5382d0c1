"""Classical codec anchors for 16-bit depth maps, measured in CompressAI's results schema.

A :class:`DepthAnchor` codes a H×W ``uint16`` depth map (millimetres, 0 = hole) at one setting of
its quality knob; lossless anchors have no knob (``qualities == ()``, swept as one point with
quality ``None``). :func:`run_depth_anchor` returns ``{"name", "description", "results": {"bpp",
"psnr", "rmse_mm", "mae_mm", "flying_pixels_percent", "encoding_time", "decoding_time", "quality",
"lossless", "holes_kept"}}``, one point per setting, each the mean over the maps. Rates count every
byte written, our own prefixes included (bpp = 8 · bytes / (H · W)).

Errors come from :func:`~mmcodec.evaluate.depth_metrics.depth_metrics`, over the valid pixels of
the reference only (reference > 0): what a codec puts into holes is not scored, while a valid
pixel decoded as 0 counts its full depth as error; ``holes_kept`` says whether every decoded map
is 0 exactly where its reference is. PSNR uses the 16-bit peak 65535. Exact valid pixels give an
infinite PSNR, which JSON cannot hold: a point's ``psnr`` is then ``None``, and its ``lossless``
flag is true when every map came back identical.

Anchors (each ``settings`` states them in full): PNG 16-bit, JPEG XL (lossless modular; lossy by
distance), JPEG 2000 (reversible 5/3; irreversible 9/7 at a target PSNR), AVIF 12-bit (depth
shifted right to fit), RVL (:mod:`mmcodec.modalities.rvl`) and zstd on the raw samples.
"""
from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..modalities.rvl import rvl_decode, rvl_encode
from .anchors import Availability, _imagecodecs_requirement, _imagecodecs_versions, timed_round_trip
from .depth_metrics import depth_metrics

PEAK = 65535.0
MIN_SIDE = 16
AVIF_BITS = 12
SHAPE = struct.Struct("<II")  # height, width: the prefix of the zstd anchor

Quality = float | None


@dataclass(frozen=True)
class DepthAnchor(Availability):
    """A classical codec at fixed settings coding H×W ``uint16`` depth, with an optional knob."""

    name: str
    settings: str
    qualities: tuple[Quality, ...]
    encoder: Callable[[np.ndarray, Quality], bytes] = field(repr=False)
    decoder: Callable[[bytes], np.ndarray] = field(repr=False)
    requirement: Callable[[], str | None] = field(repr=False)  # None if usable, else why not
    versions: Callable[[], str] = field(repr=False)

    def encode(self, depth: np.ndarray, quality: Quality = None) -> bytes:
        self.require()
        return bytes(self.encoder(_depth16(depth), quality))

    def decode(self, data: bytes) -> np.ndarray:
        self.require()
        decoded = np.asarray(self.decoder(bytes(data)))
        if decoded.ndim != 2 or decoded.dtype != np.uint16:
            raise InputError(f"anchor {self.name!r} decoded {decoded.shape} {decoded.dtype}, not H×W uint16")
        return np.ascontiguousarray(decoded)


def _depth16(depth: np.ndarray) -> np.ndarray:
    depth = np.asarray(depth)
    if depth.dtype != np.uint16 or depth.ndim != 2:
        raise InputError(f"depth anchors code H×W uint16 depth maps, got {depth.shape} {depth.dtype}")
    if min(depth.shape) < MIN_SIDE:
        raise InputError(f"depth map {depth.shape[1]}×{depth.shape[0]} is too small ({MIN_SIDE} px minimum)")
    return np.ascontiguousarray(depth)


# --- PNG, JPEG XL, JPEG 2000 (imagecodecs) -----------------------------------------------------

def _png_encode(depth: np.ndarray, quality: Quality) -> bytes:
    import imagecodecs
    return imagecodecs.png_encode(depth, level=9)


def _png_decode(data: bytes) -> np.ndarray:
    import imagecodecs
    return imagecodecs.png_decode(data)


def _jpegxl_encode(depth: np.ndarray, distance: Quality) -> bytes:
    import imagecodecs
    if distance is None:
        return imagecodecs.jpegxl_encode(depth, lossless=True, effort=7, numthreads=1)
    return imagecodecs.jpegxl_encode(depth, distance=float(distance), lossless=False, effort=7,
                                     numthreads=1)


def _jpegxl_decode(data: bytes) -> np.ndarray:
    import imagecodecs
    return imagecodecs.jpegxl_decode(data, numthreads=1)


def _jpeg2000_encode(depth: np.ndarray, target_psnr: Quality) -> bytes:
    import imagecodecs
    if target_psnr is None:
        return imagecodecs.jpeg2k_encode(depth, reversible=True, codecformat="J2K", numthreads=1)
    return imagecodecs.jpeg2k_encode(depth, level=float(target_psnr), reversible=False,
                                     codecformat="J2K", numthreads=1)


def _jpeg2000_decode(data: bytes) -> np.ndarray:
    import imagecodecs
    return imagecodecs.jpeg2k_decode(data, numthreads=1)


# --- AVIF 12-bit -------------------------------------------------------------------------------

def avif_shift(depth: np.ndarray) -> int:
    """The smallest right shift that brings every depth value into AVIF's 12 bits."""
    top = int(depth.max(initial=0))
    return max(0, top.bit_length() - AVIF_BITS)


def _avif_encode(depth: np.ndarray, quality: Quality) -> bytes:
    import imagecodecs
    avif = imagecodecs.AVIF
    shift = avif_shift(depth)
    plane = depth >> shift
    # imagecodecs codes a one-channel array losslessly whatever the level, so the plane goes in
    # as R = G = B and only luma (YUV 4:0:0) is stored
    rgb = np.ascontiguousarray(np.repeat(plane[:, :, None], 3, axis=2))
    try:
        data = imagecodecs.avif_encode(
            rgb, level=int(quality), speed=6, bitspersample=AVIF_BITS,
            pixelformat=avif.PIXEL_FORMAT.YUV400, codec=avif.CODEC_CHOICE.AOM,
            matrix=avif.MATRIX_COEFFICIENTS.BT601, numthreads=1)
    except imagecodecs.AvifError as error:
        if "No codec available" in str(error):
            raise InputError("anchor 'avif12' is unavailable here: imagecodecs' libavif has no "
                             "libaom encoder") from error
        raise
    return bytes([shift]) + bytes(data)


def _avif_decode(data: bytes) -> np.ndarray:
    import imagecodecs
    if len(data) < 2 or data[0] > 16 - AVIF_BITS:
        raise InputError("not an avif12 depth stream (bad shift prefix)")
    plane = np.asarray(imagecodecs.avif_decode(data[1:], numthreads=1))
    if plane.ndim == 3:  # q=100 codes losslessly in 4:4:4 and decodes to R = G = B
        plane = plane[:, :, 0]
    return (plane.astype(np.uint32) << data[0]).clip(0, 0xFFFF).astype(np.uint16)


# --- RVL and zstd ------------------------------------------------------------------------------

def _rvl_encode(depth: np.ndarray, quality: Quality) -> bytes:
    return rvl_encode(depth)


def _rvl_versions() -> str:
    return "mmcodec.modalities.rvl (numpy)"


def _zstd_encode(depth: np.ndarray, quality: Quality) -> bytes:
    import imagecodecs
    raw = depth.astype("<u2").tobytes()
    return SHAPE.pack(*depth.shape) + bytes(imagecodecs.zstd_encode(raw, level=19))


def _zstd_decode(data: bytes) -> np.ndarray:
    import imagecodecs
    if len(data) < SHAPE.size:
        raise InputError("zstd depth stream is truncated (no shape prefix)")
    height, width = SHAPE.unpack_from(data)
    raw = imagecodecs.zstd_decode(data[SHAPE.size:])
    if len(raw) != 2 * height * width:
        raise InputError(f"zstd depth stream holds {len(raw)} bytes, not {height}×{width}×2")
    return np.frombuffer(raw, "<u2").reshape(height, width).astype(np.uint16)


def _always() -> str | None:
    return None


DEPTH_ANCHORS: dict[str, DepthAnchor] = {anchor.name: anchor for anchor in [
    DepthAnchor("png16", "PNG: libpng via imagecodecs.png_encode, 16-bit greyscale, level 9, "
                "lossless", (), _png_encode, _png_decode, _imagecodecs_requirement("PNG"),
                _imagecodecs_versions("png_version")),
    DepthAnchor("jpegxl-lossless", "JPEG XL: libjxl via imagecodecs.jpegxl_encode, 16-bit "
                "greyscale, lossless (modular), effort=7, bare codestream", (),
                _jpegxl_encode, _jpegxl_decode, _imagecodecs_requirement("JPEGXL"),
                _imagecodecs_versions("jpegxl_version")),
    DepthAnchor("jpegxl", "JPEG XL: libjxl via imagecodecs.jpegxl_encode, 16-bit greyscale, lossy "
                "(VarDCT), distance d (smaller is better), effort=7, bare codestream",
                (4.0, 2.0, 1.0, 0.5, 0.25, 0.12, 0.06, 0.03),
                _jpegxl_encode, _jpegxl_decode, _imagecodecs_requirement("JPEGXL"),
                _imagecodecs_versions("jpegxl_version")),
    DepthAnchor("jpeg2000", "JPEG 2000: OpenJPEG via imagecodecs.jpeg2k_encode, 16-bit greyscale, "
                "one tile, one layer, raw J2K codestream; setting = OpenJPEG's target PSNR in dB "
                "(level) with the irreversible 9/7 wavelet, or None = lossless (reversible 5/3)",
                (55.0, 60.0, 65.0, 70.0, 75.0, 80.0, 85.0, 90.0, 95.0, 100.0, None),
                _jpeg2000_encode, _jpeg2000_decode, _imagecodecs_requirement("JPEG2K"),
                _imagecodecs_versions("jpeg2k_version")),
    DepthAnchor("avif12", "AVIF: libavif + libaom via imagecodecs.avif_encode, quality q (0-100, "
                "100 = lossless coding), speed=6, 12-bit luma only (YUV 4:0:0), full range; depth "
                "is shifted right by the smallest s with max(depth) >> s <= 4095 (s in a 1-byte "
                "prefix, counted) and decoded by a left shift, so it is lossy even at q=100 when "
                "s > 0", (20, 40, 60, 75, 85, 92, 97, 100),
                _avif_encode, _avif_decode, _imagecodecs_requirement("AVIF"),
                _imagecodecs_versions("avif_version")),
    DepthAnchor("rvl", "RVL (Wilson, ISS 2017): runs of holes / values, zig-zag deltas, 4-bit "
                "variable-length codes, 12-byte header (magic, width, height), lossless", (),
                _rvl_encode, rvl_decode, _always, _rvl_versions),
    DepthAnchor("zstd", "zstd: imagecodecs.zstd_encode level 19 on the raw little-endian uint16 "
                "samples, 8-byte shape prefix (counted), lossless", (),
                _zstd_encode, _zstd_decode, _imagecodecs_requirement("ZSTD"),
                _imagecodecs_versions("zstd_version")),
]}


# --- measurement -------------------------------------------------------------------------------

MEANS = ("bpp", "rmse_mm", "mae_mm", "flying_pixels_percent", "encoding_time", "decoding_time")


def _measure(anchor: DepthAnchor, depth: np.ndarray, quality: Quality) -> dict:
    data, decoded, encoding_time, decoding_time = timed_round_trip(anchor, depth, quality)
    metrics = depth_metrics(depth, decoded, peak=PEAK)
    return {"bpp": 8 * len(data) / depth.size, "encoding_time": encoding_time,
            "decoding_time": decoding_time, "exact": bool(np.array_equal(decoded, depth)),
            **{key: metrics[key] for key in ("psnr", "rmse_mm", "mae_mm", "flying_pixels_percent",
                                             "holes_kept")}}


def run_depth_anchor(anchor: DepthAnchor, depths: Sequence[np.ndarray],
                     qualities: Sequence[Quality] | None = None, progress: bool = False) -> dict:
    """Sweep ``anchor`` over ``qualities`` (default: its own) on H×W ``uint16`` depth maps.

    Per setting, the mean over maps of bpp, PSNR (valid pixels, peak 65535, per map then
    averaged; ``None`` if any map's valid pixels came back exact), RMSE and MAE in mm, the
    percentage of flying pixels (error > 5 % of the depth; all over valid pixels) and encode /
    decode seconds; ``lossless`` / ``holes_kept`` say whether every map came back identical / with
    its holes exactly, ``quality`` holds the settings. Points are sorted by bpp.
    """
    anchor.require()
    depths = [_depth16(depth) for depth in depths]
    if not depths:
        raise InputError("run_depth_anchor needs at least one depth map")
    settings = list(qualities if qualities is not None else anchor.qualities or (None,))
    if progress:
        from tqdm import tqdm
        settings = tqdm(settings, desc=anchor.name, unit="setting")
    points = []
    for quality in settings:
        rows = [_measure(anchor, depth, quality) for depth in depths]
        point: dict = {key: float(np.mean([row[key] for row in rows])) for key in MEANS}
        psnrs = [row["psnr"] for row in rows]
        point["psnr"] = float(np.mean(psnrs)) if np.isfinite(psnrs).all() else None
        point["quality"] = quality
        point["lossless"] = all(row["exact"] for row in rows)
        point["holes_kept"] = all(row["holes_kept"] for row in rows)
        points.append(point)
    points.sort(key=lambda p: p["bpp"])
    keys = ("bpp", "psnr", *MEANS[1:], "quality", "lossless", "holes_kept")
    return {"name": anchor.name, "description": anchor.description,
            "results": {key: [p[key] for p in points] for key in keys}}
