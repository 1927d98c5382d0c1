"""Lossless coding of a depth map's hole mask (where the sensor gave no measurement).

Holes are kept exactly: the mask travels as its own stream and the decoder sets every hole
to 0 and every other sample to at least 1. The mask (1 = hole) is coded by the adaptive
context coder of :mod:`mmcodec.modalities.bilevel_coder` (JBIG's three-line template, range
coded): ``0x01``, the number of holes (uint32 LE), then the coder's words (uint32 LE). On the
held-out RGB-D frames it takes 27.5% fewer bytes than the 1-bit lossless JPEG XL codestream
(libjxl effort 7) that depth files held before (``docs/benchmarks/hole_mask.md``), which halved
the row-XOR + DEFLATE coding used first. Streams of that earlier format (a bare JPEG XL
codestream, recognised by its signature) are still read. A map without holes costs an empty
stream.

The decoded mask always has the depth map's size (from the file's header), so a corrupt or
hostile stream can never make the decoder allocate more than the map; the hole count is checked
after decoding (in a file, each stream's CRC has been checked before). A JPEG XL stream's
SizeHeader (ISO/IEC 18181-1 sec. D.2) is parsed and must give the map's size before libjxl sees it.
"""
from __future__ import annotations

import struct

import numpy as np

from ..errors import ContainerError
from .bilevel_coder import decode_bilevel, encode_bilevel

CONTEXT_CODED = b"\x01"
JXL_SIGNATURE = b"\xff\x0a"
_RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}


def encode_hole_mask(valid: np.ndarray) -> bytes:
    """Bytes for the hole mask of ``valid`` (True = measured); b"" when nothing is missing."""
    holes = ~np.asarray(valid, dtype=bool)
    if not holes.any():
        return b""
    words = encode_bilevel(holes).astype("<u4")
    return CONTEXT_CODED + struct.pack("<I", int(holes.sum())) + words.tobytes()


class _Bits:
    """Least-significant-bit-first reader, as JPEG XL packs its headers."""

    def __init__(self, data: bytes) -> None:
        self.value, self.size, self.position = int.from_bytes(data, "little"), 8 * len(data), 0

    def read(self, count: int) -> int:
        if self.position + count > self.size:
            raise ContainerError("hole-mask stream is truncated")
        out = (self.value >> self.position) & ((1 << count) - 1)
        self.position += count
        return out

    def u32(self, widths: tuple[int, ...]) -> int:
        return self.read(widths[self.read(2)])


def jxl_size(data: bytes) -> tuple[int, int]:
    """(height, width) from a bare JPEG XL codestream's SizeHeader."""
    if not data.startswith(JXL_SIGNATURE):
        raise ContainerError("hole-mask stream is not a JPEG XL codestream")
    bits = _Bits(data[2:14])
    small = bits.read(1)
    height = (bits.read(5) + 1) * 8 if small else bits.u32((9, 13, 18, 30)) + 1
    ratio = bits.read(3)
    if ratio:
        num, den = _RATIOS[ratio]
        return height, height * num // den
    width = (bits.read(5) + 1) * 8 if small else bits.u32((9, 13, 18, 30)) + 1
    return height, width


def decode_hole_mask(data: bytes, height: int, width: int) -> np.ndarray:
    """The ``valid`` mask (H×W bool) from :func:`encode_hole_mask`'s bytes (or a JPEG XL stream
    of files written before)."""
    if not data:
        return np.ones((height, width), dtype=bool)
    if data.startswith(JXL_SIGNATURE):
        return _decode_jxl(data, height, width)
    if not data.startswith(CONTEXT_CODED) or len(data) < 5 or (len(data) - 5) % 4:
        raise ContainerError("hole-mask stream is truncated or not a hole-mask stream")
    (count,) = struct.unpack("<I", data[1:5])
    try:
        holes = decode_bilevel(np.frombuffer(data[5:], dtype="<u4"), height, width)
    except Exception:  # the range decoder refusing the words is the stream's fault
        raise ContainerError("hole-mask stream is corrupt") from None
    if int(holes.sum()) != count:
        raise ContainerError("hole-mask stream is corrupt or belongs to a map of another size")
    return ~holes


def _decode_jxl(data: bytes, height: int, width: int) -> np.ndarray:
    import imagecodecs

    if jxl_size(data) != (height, width):
        raise ContainerError("hole-mask stream does not match the depth map's size")
    try:
        holes = imagecodecs.jpegxl_decode(data)
    except Exception:  # every libjxl failure is the stream's fault
        raise ContainerError("hole-mask stream is corrupt") from None
    if holes.shape != (height, width) or holes.max(initial=0) > 1:
        raise ContainerError("hole-mask stream does not decode to a binary mask of the depth map's size")
    return holes == 0
