"""Lossless hole-mask stream (context coded; JPEG XL streams of earlier files still read)."""
from pathlib import Path

import imagecodecs
import numpy as np
import pytest

from mmcodec.errors import ContainerError
from mmcodec.modalities.depth import read_depth
from mmcodec.modalities.hole_mask import CONTEXT_CODED, decode_hole_mask, encode_hole_mask, jxl_size

KINECT = Path(__file__).resolve().parents[2] / "../shared/datasets/rgbd/redkitchen/frame-000000.depth.png"


def legacy_stream(valid: np.ndarray) -> bytes:
    """A hole mask as depth files held it before: a 1-bit lossless JPEG XL codestream."""
    holes = np.ascontiguousarray(~valid, dtype=np.uint8)
    return bytes(imagecodecs.jpegxl_encode(holes, lossless=True, effort=7, bitspersample=1))


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (48, 64), (8, 8), (90, 160), (264, 256), (1000, 3)])
def test_random_masks_round_trip(shape):
    rng = np.random.default_rng(0)
    valid = rng.random(shape) > 0.3
    valid.flat[0] = False
    data = encode_hole_mask(valid)
    assert data.startswith(CONTEXT_CODED)
    assert np.array_equal(decode_hole_mask(data, *shape), valid)


def test_no_holes_costs_nothing():
    assert encode_hole_mask(np.ones((40, 30), bool)) == b""
    assert decode_hole_mask(b"", 40, 30).all()


def test_structured_masks_compress_well():
    valid = np.ones((480, 640), bool)
    valid[:, 100:140] = False
    valid[200:300, 400:500] = False
    assert len(encode_hole_mask(valid)) < 200


@pytest.mark.skipif(not KINECT.is_file(), reason="shared datasets not available")
def test_a_kinect_mask_takes_a_fifth_fewer_bytes_than_jpeg_xl():
    valid = read_depth(KINECT).valid
    data = encode_hole_mask(valid)
    assert np.array_equal(decode_hole_mask(data, *valid.shape), valid)
    assert len(data) < 0.8 * len(legacy_stream(valid))


def test_corrupt_or_mismatched_streams_are_refused():
    valid = ~np.eye(16, dtype=bool)
    data = encode_hole_mask(valid)
    for bad, shape in [(data[:-3], (16, 16)), (data[:4], (16, 16)), (data, (24, 24)), (b"\x00garbage", (16, 16)),
                       (data[:5] + bytes(len(data) - 5), (16, 16))]:
        with pytest.raises(ContainerError):
            decode_hole_mask(bad, *shape)


@pytest.mark.parametrize("shape", [(1, 1), (9, 16), (90, 160), (120, 150), (480, 640), (3000, 2), (77, 531)])
def test_jpeg_xl_streams_of_earlier_files_are_read_and_their_size_checked(shape):
    valid = np.ones(shape, bool)
    valid[0, 0] = False
    valid[-1, ::3] = False
    data = legacy_stream(valid)
    assert jxl_size(data) == shape
    assert np.array_equal(decode_hole_mask(data, *shape), valid)


def test_a_jpeg_xl_stream_for_a_larger_map_is_refused_before_decoding():
    valid = np.ones((4000, 4000), bool)
    valid[::7, ::5] = False
    with pytest.raises(ContainerError, match="size"):
        decode_hole_mask(legacy_stream(valid), 16, 16)
