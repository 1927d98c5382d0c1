"""benchmarks/depth_training_frames.py: it judges weights on training frames, never on test frames."""
from __future__ import annotations

import pytest

from mmcodec.evaluate.rgbd_evaluate import rgbd_test_frames

from ..train.rgbd_folder import KITCHEN
from .scripts import load_benchmark


@pytest.mark.skipif(not KITCHEN.is_dir(), reason="shared datasets not available")
def test_the_frames_are_spread_over_the_training_part_and_never_a_test_frame() -> None:
    benchmark = load_benchmark("depth_training_frames")
    root = KITCHEN.parent
    frames = benchmark.training_frames(root, 4)
    assert [p.sequence.split("/")[0] for p in frames].count("rgbdd") == 4 and len(frames) == 8
    tested = {(p.sequence, p.name) for p in rgbd_test_frames(root)}
    assert not tested & {(p.sequence, p.name) for p in frames}
    assert len({p.name for p in frames}) == 8


def test_the_objective_is_the_mean_training_loss_over_frames() -> None:
    objective = load_benchmark("depth_training_frames").objective
    rows = [{"depth_bpp": 0.1, "psnr": 70.0}, {"depth_bpp": 0.3, "psnr": 60.0}]
    expected = (0.1 + 100 * 255.0 ** 2 * 1e-7 + 0.3 + 100 * 255.0 ** 2 * 1e-6) / 2
    assert objective(rows, 100.0) == pytest.approx(expected)
