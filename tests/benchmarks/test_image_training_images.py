"""benchmarks/image_training_images.py: it judges image weights on whole training images, never on Kodak."""
from __future__ import annotations

from pathlib import Path

import pytest

from .scripts import load_benchmark


def test_the_images_are_spread_over_every_training_folder(tmp_path: Path) -> None:
    for folder, count in (("bsds500", 10), ("sunhays80", 4), ("urban100-half", 6)):
        (tmp_path / folder).mkdir()
        for i in range(count):
            (tmp_path / folder / f"{i:03d}.png").write_bytes(b"")
        (tmp_path / folder / "notes.txt").write_text("not an image")
    images = load_benchmark("image_training_images").training_images(tmp_path, 3)
    names = [f"{p.parent.name}/{p.name}" for p in images]
    assert names == ["bsds500/000.png", "bsds500/003.png", "bsds500/006.png",
                     "sunhays80/000.png", "sunhays80/001.png", "sunhays80/002.png",
                     "urban100-half/000.png", "urban100-half/002.png", "urban100-half/004.png"]


def test_the_objective_is_the_mean_training_loss_over_images() -> None:
    objective = load_benchmark("image_training_images").objective
    rows = [{"bpp": 0.4, "psnr-rgb": 30.0}, {"bpp": 1.0, "psnr-rgb": 40.0}]
    expected = (0.4 + 0.05 * 255.0 ** 2 * 1e-3 + 1.0 + 0.05 * 255.0 ** 2 * 1e-4) / 2
    assert objective(rows, 0.05) == pytest.approx(expected)
