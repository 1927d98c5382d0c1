"""benchmarks/colour_guided_median.py: the colour-weighted median it measures."""
from __future__ import annotations

import numpy as np

from mmcodec.evaluate.metrics import psnr
from mmcodec.modalities.depth_filter import median_filter_depth

from .scripts import load_benchmark


def test_uniform_colour_gives_the_plain_median_and_holes_stay() -> None:
    benchmark = load_benchmark("colour_guided_median")
    rng = np.random.default_rng(0)
    depth = rng.uniform(500, 4000, (20, 24)).astype(np.float32)
    valid = rng.uniform(size=depth.shape) > 0.2
    colour = np.full((20, 24, 3), 90, dtype=np.uint8)
    guided = benchmark.colour_weighted_median(depth, valid, colour, 5, 16.0)
    np.testing.assert_array_equal(guided, median_filter_depth(depth, valid, 5))
    np.testing.assert_array_equal(guided[~valid], depth[~valid])


def test_a_pixel_takes_the_depth_of_the_neighbours_that_share_its_colour() -> None:
    benchmark = load_benchmark("colour_guided_median")
    colour = np.zeros((9, 12, 3), dtype=np.uint8)
    colour[:, 6:] = 200                                   # a colour edge between columns 5 and 6
    truth = np.where(np.arange(12) < 6, 1000.0, 3000.0)[None].repeat(9, 0).astype(np.float32)
    blurred = truth.copy()
    blurred[:, 4:8] = [1400.0, 1800.0, 2200.0, 2600.0]   # a decoder's ramp across the depth step
    valid = np.ones(truth.shape, dtype=bool)
    guided = benchmark.colour_weighted_median(blurred, valid, colour, 5, 8.0)
    assert np.abs(guided - truth)[:, 2:10].max() < np.abs(median_filter_depth(blurred, valid, 5) - truth)[:, 2:10].max()
    np.testing.assert_array_equal(guided[:, 4], 1000.0)   # votes from its own side only
    np.testing.assert_array_equal(guided[:, 5], 1400.0)   # (the plain median gives 1800 here)
    np.testing.assert_array_equal(guided[:, 6], 2600.0)
    assert psnr(truth[valid], guided[valid], peak=65535.0) > psnr(truth[valid], blurred[valid], peak=65535.0)
