"""The decoder's median post-filter of depth and the encoder's choice of its window."""
import numpy as np
import pytest

from mmcodec.modalities import depth_filter
from mmcodec.modalities.depth_filter import choose_median_window, median_filter_depth


def _step_edge(ringing: bool) -> np.ndarray:
    depth = np.full((24, 32), 1000.0, dtype=np.float32)
    depth[:, 16:] = 3000.0
    if ringing:   # a codec's over- and undershoots beside the step, in blocks as a transform leaves them
        depth[::2, 14] += 150.0
        depth[1::2, 13] -= 120.0
        depth[::3, 17] -= 200.0
        depth[1::3, 18] += 90.0
    return depth


def test_a_plane_and_a_straight_step_stay_and_ringing_goes() -> None:
    rows, cols = np.mgrid[0:30, 0:40]
    plane = (1500.0 + 7.0 * rows + 3.0 * cols).astype(np.float32)
    valid = np.ones(plane.shape, bool)
    for window in (3, 5, 7):   # a symmetric window's median of a plane is its centre, away from the border
        r = window // 2
        np.testing.assert_array_equal(median_filter_depth(plane, valid, window)[r:-r, r:-r], plane[r:-r, r:-r])
    sharp, ringing = _step_edge(False), _step_edge(True)
    for window in (3, 5, 7):
        np.testing.assert_array_equal(median_filter_depth(sharp, valid[:24, :32], window), sharp)
        restored = median_filter_depth(ringing, valid[:24, :32], window)
        assert np.abs(restored - sharp).sum() < 0.5 * np.abs(ringing - sharp).sum()


def test_holes_neither_vote_nor_change() -> None:
    depth = np.full((9, 9), 2000.0, dtype=np.float32)
    valid = np.ones(depth.shape, bool)
    valid[3:6, 3:6] = False
    depth[~valid] = 0.0
    depth[4, 6] = 9000.0   # an outlier beside the holes: its valid neighbours outvote it
    out = median_filter_depth(depth, valid, 3)
    assert np.all(out[~valid] == 0.0)
    assert out[4, 6] == 2000.0 and np.all(out[valid] == 2000.0)
    lonely = np.zeros((5, 5), dtype=np.float32)
    alone = np.zeros((5, 5), bool)
    lonely[2, 2], alone[2, 2] = 1234.0, True
    assert median_filter_depth(lonely, alone, 7)[2, 2] == 1234.0   # no valid neighbour: kept


def test_the_output_is_always_one_of_the_decoded_samples() -> None:
    rng = np.random.default_rng(0)
    depth = rng.uniform(500, 5000, (17, 23)).astype(np.float32)
    valid = rng.random(depth.shape) > 0.3     # even counts of valid neighbours: the lower middle value
    for window in (3, 5, 7):
        out = median_filter_depth(depth, valid, window)
        assert np.isin(out[valid], depth[valid]).all()
        np.testing.assert_array_equal(out[~valid], depth[~valid])


def test_strips_give_the_same_output_as_one_pass(monkeypatch) -> None:
    rng = np.random.default_rng(1)
    depth = rng.uniform(500, 5000, (40, 31)).astype(np.float32)
    valid = rng.random(depth.shape) > 0.1
    whole = median_filter_depth(depth, valid, 5)
    monkeypatch.setattr(depth_filter, "_STRIP_ELEMENTS", 31 * 25 * 3)   # strips of 3 rows
    np.testing.assert_array_equal(median_filter_depth(depth, valid, 5), whole)


def test_window_zero_is_a_copy_and_other_windows_are_refused() -> None:
    depth = _step_edge(True)
    valid = np.ones(depth.shape, bool)
    out = median_filter_depth(depth, valid, 0)
    np.testing.assert_array_equal(out, depth)
    assert out is not depth
    with pytest.raises(ValueError, match="one of"):
        median_filter_depth(depth, valid, 9)


def test_the_encoder_chooses_no_filter_unless_one_lowers_the_error() -> None:
    sharp = _step_edge(False)
    valid = np.ones(sharp.shape, bool)
    assert choose_median_window(sharp, sharp, valid) == 0          # nothing to gain: no filter
    assert choose_median_window(sharp, _step_edge(True), valid) in (3, 5, 7)
    noisy = sharp.copy()
    noisy[::4, ::4] += 800.0                                        # sparse outliers: the smallest window
    assert choose_median_window(sharp, noisy, valid) == 3
