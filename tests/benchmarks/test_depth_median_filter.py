"""benchmarks/depth_median_filter.py: its table cells."""
from __future__ import annotations

from .scripts import load_benchmark


def test_windows_are_counted_per_frame_and_points_outside_the_anchor_say_so() -> None:
    benchmark = load_benchmark("depth_median_filter")
    result = {"frames": [{"median_window": w} for w in (5, 5, 3, 0, 5, 7)]}
    assert benchmark.window_counts(result) == "1 / 1 / 3 / 1"
    curve = ([0.1, 0.2, 0.4, 0.8], [60.0, 65.0, 70.0, 75.0])
    assert benchmark.versus_anchor(curve, {"depth_bpp": 0.22, "psnr": 65.0}) == "+10.0%"
    assert benchmark.versus_anchor(curve, {"depth_bpp": 0.1, "psnr": 65.0}) == "-50.0%"
    assert benchmark.versus_anchor(curve, {"depth_bpp": 0.1, "psnr": 80.0}) == "outside its range"
    assert benchmark.versus_anchor(None, {"depth_bpp": 0.1, "psnr": 65.0}) == "n/a"
