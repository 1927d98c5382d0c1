"""Depth maps: units, validation, hole-preserving conversion and hole filling."""
from pathlib import Path

import numpy as np
import pytest

from mmcodec.errors import InputError
from mmcodec.modalities.depth import (
    DepthMap,
    coding_plane,
    fill_holes,
    from_millimetres,
    read_depth,
    to_millimetres,
    validate_depth,
    write_depth,
)

REDKITCHEN = Path(__file__).resolve().parents[2] / "../shared/datasets/rgbd/redkitchen/frame-000000.depth.png"


def test_units_round_trip_and_keep_holes():
    mm = np.array([[0, 1, 1000, 8191]], dtype=np.uint16)
    for unit in ("mm", "raw", "sun"):
        assert np.array_equal(from_millimetres(to_millimetres(mm, "mm"), unit, mm > 0),
                              mm if unit != "sun" else (mm >> 13) | (mm << 3))
    tum = np.array([[0, 5, 5000, 46655]], dtype=np.uint16)
    assert np.allclose(to_millimetres(tum, "tum"), [[0, 1, 1000, 9331]])
    assert np.array_equal(from_millimetres(to_millimetres(tum, "tum"), "tum", tum > 0), tum)


def test_sun_rotation_matches_the_dataset_convention():
    stored = np.array([[(1234 << 3) & 0xFFFF]], dtype=np.uint16)  # SUN: value = d << 3 | d >> 13
    assert to_millimetres(stored, "sun")[0, 0] == 1234
    far = np.array([[0, 9870, 65535]], dtype=np.uint16)            # beyond 8191 mm too (a SUN frame has 9870)
    stored = from_millimetres(far.astype(np.float32), "sun", far > 0)
    assert np.array_equal(to_millimetres(stored, "sun"), far)


def test_valid_samples_never_become_holes():
    out = from_millimetres(np.array([[0.2, 0.0, 3.0]]), "mm", np.array([[True, False, True]]))
    assert out.tolist() == [[1, 0, 3]]


def test_validation_refuses_wrong_types_and_units():
    with pytest.raises(InputError, match="16-bit"):
        validate_depth(np.zeros((4, 4), np.uint8))
    with pytest.raises(InputError, match="one channel"):
        validate_depth(np.zeros((4, 4, 3), np.uint16))
    with pytest.raises(InputError, match="unknown depth unit"):
        validate_depth(np.zeros((4, 4), np.uint16), "inches")


def test_read_refuses_8_bit_images(tmp_path):
    import imagecodecs
    path = tmp_path / "grey.png"
    path.write_bytes(imagecodecs.png_encode(np.zeros((8, 8), np.uint8)))
    with pytest.raises(InputError, match="16-bit single-channel"):
        read_depth(path)


def test_write_read_round_trip(tmp_path):
    depth = DepthMap(np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000, "mm")
    write_depth(tmp_path / "d.png", depth)
    assert np.array_equal(read_depth(tmp_path / "d.png").pixels, depth.pixels)


def test_fill_holes_is_smooth_and_keeps_valid_samples():
    mm = np.full((32, 32), 2000.0, np.float32)
    mm[:, 16:] = 3000.0
    valid = np.ones_like(mm, bool)
    valid[10:20, 10:20] = False
    filled = fill_holes(np.where(valid, mm, 0), valid)
    assert np.array_equal(filled[valid], mm[valid])
    assert filled[~valid].min() >= 2000 and filled[~valid].max() <= 3000   # from the surroundings, never 0


def test_fill_holes_of_a_single_row_and_of_nothing_valid():
    row = np.array([[0, 5, 0, 7]], np.float32)
    assert fill_holes(row, row > 0).min() > 0
    assert not fill_holes(np.zeros((4, 4)), np.zeros((4, 4), bool)).any()


def test_coding_plane_is_millimetres_over_65535_with_holes_filled():
    pixels = np.full((8, 8), 2000, np.uint16)
    pixels[:, 4:] = 3000
    pixels[2:4, 2:6] = 0
    depth = validate_depth(pixels * 5, "tum")                      # TUM: 1/5000 m, so 5× the millimetres
    plane = coding_plane(depth)
    assert plane.dtype == np.float32 and plane.shape == (8, 8)
    assert np.array_equal(plane[depth.valid], (pixels[depth.valid] / 65535.0).astype(np.float32))
    filled = plane[~depth.valid]                                   # from the surroundings, never 0
    assert filled.min() >= np.float32(2000 / 65535) and filled.max() <= np.float32(3000 / 65535)


@pytest.mark.skipif(not REDKITCHEN.is_file(), reason="shared datasets not available")
def test_real_kinect_frame_has_holes_that_fill():
    depth = read_depth(REDKITCHEN)
    assert depth.pixels.dtype == np.uint16 and (~depth.valid).mean() > 0.05
    filled = fill_holes(depth.millimetres(), depth.valid)
    assert filled.min() > 0 and filled.max() <= depth.pixels.max()
