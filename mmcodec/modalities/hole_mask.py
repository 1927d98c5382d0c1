"""Lossless coding of a depth map's hole mask (where the sensor gave no measurement).

Holes are kept exactly: the mask travels as its own stream and the decoder sets every hole
to 0 and every other sample to at least 1. Each row is XOR-ed with the row above (hole
borders run mostly vertically, so most bits become 0), packed 8 pixels per byte and
DEFLATE-compressed at level 9. A map without holes costs an empty stream.
"""
from __future__ import annotations

import zlib

import numpy as np

from ..errors import ContainerError


def encode_hole_mask(valid: np.ndarray) -> bytes:
    """Bytes for the hole mask of ``valid`` (True = measured); b"" when nothing is missing."""
    holes = ~np.asarray(valid, dtype=bool)
    if not holes.any():
        return b""
    residual = holes.copy()
    residual[1:] ^= holes[:-1]
    return zlib.compress(np.packbits(residual, axis=None).tobytes(), 9)


def decode_hole_mask(data: bytes, height: int, width: int) -> np.ndarray:
    """The ``valid`` mask (H×W bool) from :func:`encode_hole_mask`'s bytes."""
    if not data:
        return np.ones((height, width), dtype=bool)
    expected = (height * width + 7) // 8
    try:
        inflater = zlib.decompressobj()
        packed = inflater.decompress(data, expected + 1)  # never inflates more than the mask needs
    except zlib.error:
        raise ContainerError("hole-mask stream is corrupt") from None
    if len(packed) != expected or not inflater.eof or inflater.unused_data:
        raise ContainerError("hole-mask stream does not match the depth map's size")
    residual = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=height * width).astype(bool)
    holes = np.logical_xor.accumulate(residual.reshape(height, width), axis=0)
    return ~holes
