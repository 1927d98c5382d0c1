"""RVL: lossless run-length / variable-length coding of 16-bit depth maps.

Implements the scheme of A. D. Wilson, "Fast Lossless Depth Image Compression", Proc. ACM
Interactive Surfaces and Spaces (ISS) 2017: the pixels, in raster order, are cut into pairs of
runs (a run of zeros, i.e. holes, then a run of non-zeros; either may be empty); each pair writes
its two lengths, then every non-zero value as the zig-zag mapped difference from the previous
non-zero value (the first one from 0). Every integer is a variable-length code of 4-bit nibbles,
3 data bits (least significant first) plus a continuation bit (``0x8``). As in the paper's
listing, eight nibbles fill a 32-bit word from its most significant nibble down, the words are
stored little-endian and the last one is padded with zero nibbles.

Values are taken as unsigned 16-bit (the paper's code uses signed ``short``; both agree below
32768 mm). A 12-byte header of our own (:data:`MAGIC`, width, height as little-endian
``uint32``) makes a stream self-contained. Encoding and decoding are vectorised with numpy, except
for one Python step per run pair when decoding (the positions of the pairs chain).
"""
from __future__ import annotations

import struct

import numpy as np

from ..errors import InputError

MAGIC = b"RVL\x01"
HEADER = struct.Struct("<4sII")  # magic, width, height
MAX_PIXELS = 1 << 28
MAX_NIBBLES = 10  # 30 bits: enough for any run length up to MAX_PIXELS and any zig-zag delta
NIBBLES_PER_WORD = 8


def rvl_encode(depth: np.ndarray) -> bytes:
    """RVL stream (header + payload) of a H×W ``uint16`` depth map, 0 meaning no measurement."""
    depth = np.asarray(depth)
    if depth.ndim != 2 or depth.dtype != np.uint16:
        raise InputError(f"RVL codes H×W uint16 depth maps, got {depth.shape} {depth.dtype}")
    height, width = depth.shape
    if height * width > MAX_PIXELS:
        raise InputError(f"depth map {width}×{height} is too large for RVL (2^28 pixels at most)")
    tokens = _tokens(depth.ravel())
    return HEADER.pack(MAGIC, width, height) + _pack_nibbles(_nibbles(tokens))


def rvl_decode(data: bytes) -> np.ndarray:
    """The H×W ``uint16`` depth map of an RVL stream; :class:`InputError` if corrupt or truncated.

    The payload's runs are checked against the header's size before the map is allocated.
    """
    data = bytes(data)
    if len(data) < HEADER.size:
        raise InputError("RVL stream is truncated (no header)")
    magic, width, height = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise InputError("not an RVL stream (bad magic)")
    if width * height > MAX_PIXELS:
        raise InputError(f"RVL header claims {width}×{height} pixels (2^28 at most): corrupt stream")
    payload = data[HEADER.size:]
    if len(payload) % 4:
        raise InputError("RVL payload is not a whole number of 32-bit words: truncated or corrupt")
    nibbles = _unpack_nibbles(payload)
    tokens, token_ends = _read_tokens(nibbles)
    pixels = width * height
    heads = _pair_positions(tokens.tolist(), pixels)
    used = int(token_ends[heads[-1][0] + 1 + heads[-1][2]]) if heads else 0  # nibbles read
    if len(nibbles) - used >= NIBBLES_PER_WORD or nibbles[used:].any():
        raise InputError("RVL stream has data after the last pixel: corrupt")
    return _fill(tokens, heads, pixels).reshape(height, width)


# --- encoder ------------------------------------------------------------------------------------

def _tokens(flat: np.ndarray) -> np.ndarray:
    """The integers to write, in order: per pair, zeros, non-zeros, then the zig-zag deltas."""
    valid = flat != 0
    if flat.size == 0:
        return np.zeros(0, np.int64)
    starts = np.concatenate(([0], np.flatnonzero(valid[1:] != valid[:-1]) + 1))
    lengths = np.diff(np.concatenate((starts, [flat.size])))
    if valid[0]:  # the first pair starts with an empty run of zeros
        lengths = np.concatenate(([0], lengths))
    if len(lengths) % 2:  # the last pair ends with an empty run of non-zeros
        lengths = np.concatenate((lengths, [0]))
    zeros, nonzeros = lengths[0::2], lengths[1::2]
    values = flat[valid].astype(np.int64)
    deltas = np.diff(values, prepend=0)
    zigzag = np.where(deltas >= 0, 2 * deltas, -2 * deltas - 1)
    before = np.concatenate(([0], np.cumsum(nonzeros)[:-1]))  # non-zero values of earlier pairs
    heads = 2 * np.arange(len(zeros)) + before
    tokens = np.empty(2 * len(zeros) + len(values), np.int64)
    is_value = np.ones(len(tokens), bool)
    is_value[heads] = is_value[heads + 1] = False
    tokens[heads], tokens[heads + 1], tokens[is_value] = zeros, nonzeros, zigzag
    return tokens


def _nibbles(tokens: np.ndarray) -> np.ndarray:
    """Variable-length codes: 3 bits per nibble, low bits first, 0x8 on all but the last."""
    count = np.ones(len(tokens), np.int64)
    for k in range(1, MAX_NIBBLES):
        count += tokens >= (1 << (3 * k))
    owner = np.repeat(np.arange(len(tokens)), count)
    first = np.cumsum(count) - count
    index = np.arange(len(owner)) - first[owner]
    nibbles = (tokens[owner] >> (3 * index)) & 0x7
    nibbles |= np.where(index < count[owner] - 1, 0x8, 0)
    return nibbles.astype(np.uint8)


def _pack_nibbles(nibbles: np.ndarray) -> bytes:
    """32-bit little-endian words of eight nibbles each, first nibble most significant."""
    padded = np.zeros(-(-len(nibbles) // NIBBLES_PER_WORD) * NIBBLES_PER_WORD, np.uint8)
    padded[:len(nibbles)] = nibbles
    big_endian = (padded[0::2] << 4) | padded[1::2]
    return big_endian.reshape(-1, 4)[:, ::-1].tobytes()


# --- decoder ------------------------------------------------------------------------------------

def _unpack_nibbles(payload: bytes) -> np.ndarray:
    big_endian = np.frombuffer(payload, np.uint8).reshape(-1, 4)[:, ::-1].ravel()
    nibbles = np.empty(2 * len(big_endian), np.uint8)
    nibbles[0::2], nibbles[1::2] = big_endian >> 4, big_endian & 0xF
    return nibbles


def _read_tokens(nibbles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every complete code's value, and the nibble index just past each code."""
    ends = np.flatnonzero((nibbles & 0x8) == 0) + 1
    if not len(ends):
        return np.zeros(0, np.int64), ends
    starts = np.concatenate(([0], ends[:-1]))
    lengths = ends - starts
    if lengths.max() > MAX_NIBBLES:
        raise InputError("RVL stream has an over-long code: corrupt")
    shift = 3 * (np.arange(ends[-1]) - np.repeat(starts, lengths))
    values = (nibbles[:ends[-1]].astype(np.int64) & 0x7) << shift
    return np.add.reduceat(values, starts), ends


def _pair_positions(tokens: list[int], pixels: int) -> list[tuple[int, int, int]]:
    """(token index, zeros, non-zeros) of each pair until exactly ``pixels`` pixels are covered."""
    heads: list[tuple[int, int, int]] = []
    position = covered = 0
    while covered < pixels:
        if position + 2 > len(tokens):
            raise InputError("RVL stream is truncated: fewer pixels than its header says")
        zeros, nonzeros = tokens[position], tokens[position + 1]
        covered += zeros + nonzeros
        if covered > pixels or position + 2 + nonzeros > len(tokens) or zeros + nonzeros == 0:
            raise InputError("RVL stream is corrupt: its runs do not match its header")
        heads.append((position, zeros, nonzeros))
        position += 2 + nonzeros
    return heads


def _fill(tokens: np.ndarray, heads: list[tuple[int, int, int]], pixels: int) -> np.ndarray:
    out = np.zeros(pixels, np.uint16)
    if not heads:
        return out
    table = np.array(heads, np.int64)
    position, zeros, nonzeros = table[:, 0], table[:, 1], table[:, 2]
    first_value = np.repeat(position + 2, nonzeros)
    offset = np.arange(int(nonzeros.sum())) - np.repeat(np.cumsum(nonzeros) - nonzeros, nonzeros)
    zigzag = tokens[first_value + offset]
    values = np.cumsum((zigzag >> 1) ^ -(zigzag & 1))
    if len(values) and (values.min() < 1 or values.max() > 0xFFFF):
        raise InputError("RVL stream is corrupt: depth values outside 1..65535")
    run_start = np.cumsum(zeros + nonzeros) - nonzeros  # first pixel of each non-zero run
    out[np.repeat(run_start, nonzeros) + offset] = values
    return out
