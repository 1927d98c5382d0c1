"""Lossless hole-mask stream."""
import numpy as np
import pytest

from mmcodec.errors import ContainerError
from mmcodec.modalities.hole_mask import decode_hole_mask, encode_hole_mask, jxl_size


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (48, 64), (8, 8), (90, 160), (264, 256), (1000, 3)])
def test_random_masks_round_trip(shape):
    rng = np.random.default_rng(0)
    valid = rng.random(shape) > 0.3
    valid.flat[0] = False
    assert np.array_equal(decode_hole_mask(encode_hole_mask(valid), *shape), valid)


def test_no_holes_costs_nothing():
    assert encode_hole_mask(np.ones((40, 30), bool)) == b""
    assert decode_hole_mask(b"", 40, 30).all()


def test_vertical_structure_compresses_well():
    valid = np.ones((480, 640), bool)
    valid[:, 100:140] = False
    valid[200:300, 400:500] = False
    assert len(encode_hole_mask(valid)) < 200


def test_corrupt_or_mismatched_streams_are_refused():
    data = encode_hole_mask(np.eye(16, dtype=bool))
    with pytest.raises(ContainerError):
        decode_hole_mask(data[:-3], 16, 16)
    with pytest.raises(ContainerError):
        decode_hole_mask(data, 16, 24)
    with pytest.raises(ContainerError):
        decode_hole_mask(b"\x00garbage", 16, 16)


@pytest.mark.parametrize("shape", [(1, 1), (9, 16), (90, 160), (120, 150), (480, 640), (3000, 2), (77, 531)])
def test_size_is_read_from_the_codestream_header(shape):
    valid = np.ones(shape, bool)
    valid[0, 0] = False
    assert jxl_size(encode_hole_mask(valid)) == shape


def test_a_stream_for_a_larger_map_is_refused_before_decoding():
    valid = np.ones((4000, 4000), bool)
    valid[::7, ::5] = False
    with pytest.raises(ContainerError, match="size"):
        decode_hole_mask(encode_hole_mask(valid), 16, 16)
