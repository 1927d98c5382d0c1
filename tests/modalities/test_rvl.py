"""RVL (Wilson, ISS 2017): exact round trips, the paper's bitstream layout, speed, corrupt input."""
from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest

from mmcodec.errors import InputError
from mmcodec.modalities.rvl import HEADER, MAGIC, rvl_decode, rvl_encode

RGBDD_DEPTH = Path(__file__).resolve().parents[2] / "../shared/datasets/rgbd/rgbdd/depth"


def reference_rvl(depth: np.ndarray) -> bytes:
    """A scalar transcription of the paper's description, to check the vectorised encoder."""
    flat = [int(v) for v in depth.ravel()]
    nibbles: list[int] = []

    def vle(value: int) -> None:
        while True:
            nibble, value = value & 7, value >> 3
            nibbles.append(nibble | (8 if value else 0))
            if not value:
                return

    i, previous = 0, 0
    while i < len(flat):
        zeros = 0
        while i < len(flat) and flat[i] == 0:
            zeros, i = zeros + 1, i + 1
        run = 0
        while i + run < len(flat) and flat[i + run] != 0:
            run += 1
        vle(zeros)
        vle(run)
        for value in flat[i:i + run]:
            delta = value - previous
            vle(2 * delta if delta >= 0 else -2 * delta - 1)
            previous = value
        i += run
    nibbles += [0] * (-len(nibbles) % 8)
    words = [sum(n << (4 * (7 - k)) for k, n in enumerate(nibbles[j:j + 8])) for j in range(0, len(nibbles), 8)]
    return HEADER.pack(MAGIC, depth.shape[1], depth.shape[0]) + struct.pack(f"<{len(words)}I", *words)


def random_depths() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    full = rng.integers(0, 65536, (37, 53)).astype(np.uint16)
    holes = full * (rng.random(full.shape) < 0.6)
    long_zeros = np.zeros((64, 100), np.uint16)
    long_zeros[40, 7:9] = [65535, 1]
    long_zeros[-1, -1] = 123
    extremes = np.array([[0, 65535, 0, 65535, 1], [65535, 65535, 0, 0, 65535]], np.uint16)
    smooth = (1000 + np.cumsum(rng.integers(-3, 4, (48, 64)), axis=1)).astype(np.uint16)
    smooth[10:30, 5:50] = 0
    return [full, holes.astype(np.uint16), long_zeros, extremes, smooth, np.zeros((3, 4), np.uint16),
            np.full((5, 5), 65535, np.uint16), np.ones((1, 1), np.uint16), np.zeros((0, 6), np.uint16),
            np.zeros((1, 1), np.uint16)]


@pytest.mark.parametrize("index", range(10))
def test_round_trip_is_exact_and_matches_the_papers_layout(index: int) -> None:
    depth = random_depths()[index]
    data = rvl_encode(depth)
    assert data == reference_rvl(depth)
    decoded = rvl_decode(data)
    assert decoded.dtype == np.uint16 and decoded.shape == depth.shape
    np.testing.assert_array_equal(decoded, depth)


def test_non_contiguous_input_and_wrong_dtypes() -> None:
    depth = random_depths()[1]
    np.testing.assert_array_equal(rvl_decode(rvl_encode(depth[::2, ::-3])), depth[::2, ::-3])
    for bad in (depth.astype(np.int32), depth.astype(np.float32), depth[None]):
        with pytest.raises(InputError, match="uint16"):
            rvl_encode(bad)


@pytest.mark.skipif(not RGBDD_DEPTH.is_dir(), reason="no RGB-D-D dataset here")
def test_real_depth_maps_with_holes() -> None:
    import imagecodecs

    for path in sorted(RGBDD_DEPTH.glob("*.png"))[:3]:
        depth = imagecodecs.png_decode(path.read_bytes())
        depth[50:120, 200:260] = 0  # a large hole as Kinect-style sensors leave
        depth[::7, ::5] = 0  # and scattered missing pixels
        data = rvl_encode(depth)
        np.testing.assert_array_equal(rvl_decode(data), depth)
        assert len(data) < depth.nbytes


def test_640x480_is_fast_on_one_core() -> None:
    rng = np.random.default_rng(1)
    depth = (800 + np.cumsum(rng.integers(-4, 5, (480, 640)), axis=1)).astype(np.uint16)
    depth[rng.random(depth.shape) < 0.1] = 0
    depth[100:200, 300:500] = 0
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        decoded = rvl_decode(rvl_encode(depth))
        best = min(best, time.perf_counter() - start)
    np.testing.assert_array_equal(decoded, depth)
    assert best < 1.0


# ---- corrupt and truncated streams -------------------------------------------------------------

@pytest.fixture(scope="module")
def stream() -> bytes:
    return rvl_encode(random_depths()[4])


def test_header_errors(stream: bytes) -> None:
    for data, message in [(b"", "truncated"), (stream[:11], "truncated"), (b"XVL\x01" + stream[4:], "magic"),
                          (HEADER.pack(MAGIC, 1 << 16, 1 << 16) + stream[12:], "2\\^28"),
                          (HEADER.pack(MAGIC, 0xFFFFFFFF, 0xFFFFFFFF), "2\\^28")]:
        with pytest.raises(InputError, match=message):
            rvl_decode(data)


def test_header_larger_than_the_payload_is_refused_before_allocating(stream: bytes) -> None:
    # 2^28 pixels claimed: refused from the payload's runs, without allocating the 512 MiB image
    with pytest.raises(InputError, match="fewer pixels|do not match"):
        rvl_decode(HEADER.pack(MAGIC, 1 << 14, 1 << 14) + stream[12:])


def test_truncations_and_trailing_data(stream: bytes) -> None:
    for cut in range(1, len(stream) - 12):
        with pytest.raises(InputError):
            rvl_decode(stream[:-cut])
    with pytest.raises(InputError, match="after the last pixel"):
        rvl_decode(stream + b"\x01\x00\x00\x00")
    with pytest.raises(InputError, match="over-long"):
        rvl_decode(HEADER.pack(MAGIC, 4, 4) + b"\x88\x88\x88\x88" + b"\x00\x00\x00\x88")  # 11 nibbles


def test_flipped_bits_never_escape_as_other_errors(stream: bytes) -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        data = bytearray(stream)
        for position in rng.integers(12, len(data), rng.integers(1, 4)):
            data[position] ^= 1 << int(rng.integers(8))
        try:
            decoded = rvl_decode(bytes(data))
        except InputError as error:
            assert "\n" not in str(error)
        else:
            assert decoded.shape == (48, 64) and decoded.dtype == np.uint16
