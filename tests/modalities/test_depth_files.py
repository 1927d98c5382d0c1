"""Depth PNGs on disk: the 7-Scenes, Open3D and depth/ layouts, and refusing what is not 16-bit depth."""
from __future__ import annotations

from pathlib import Path

import imagecodecs
import numpy as np
import pytest

from mmcodec.errors import InputError
from mmcodec.modalities.depth import read_depth
from mmcodec.modalities.depth_files import depth_frame, find_depth_files


def write_png(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(imagecodecs.png_encode(pixels))
    return path


def test_three_layouts_found_and_colour_ignored(tmp_path: Path) -> None:
    depth = np.arange(12 * 16, dtype=np.uint16).reshape(12, 16)
    colour = np.zeros((12, 16, 3), np.uint8)
    seven = [write_png(tmp_path / "chess" / "seq-01" / f"frame-00000{i}.depth.png", depth) for i in range(2)]
    write_png(tmp_path / "chess" / "seq-01" / "frame-000000.color.png", colour)
    rgbdd = [write_png(tmp_path / "rgbdd" / "depth" / f"{i}.png", depth) for i in range(2)]
    write_png(tmp_path / "rgbdd" / "color" / "0.png", colour)
    open3d = [write_png(tmp_path / "samples" / "TUM_depth.png", depth)]
    write_png(tmp_path / "samples" / "TUM_color.png", colour)
    assert find_depth_files(tmp_path) == sorted(seven + rgbdd + open3d)
    assert find_depth_files(tmp_path / "rgbdd" / "depth") == rgbdd
    assert [depth_frame(p) for p in (seven[0], rgbdd[1], open3d[0])] == [
        (tmp_path / "chess" / "seq-01", "frame-000000"), (tmp_path / "rgbdd", "1"), (tmp_path / "samples", "TUM")]
    np.testing.assert_array_equal(read_depth(seven[0]).pixels, depth)


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        find_depth_files(tmp_path / "missing")
    with pytest.raises(InputError, match="no depth maps"):
        find_depth_files(tmp_path)
    eight = write_png(tmp_path / "depth" / "a.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(InputError, match="16-bit"):
        read_depth(eight)
    rgb16 = write_png(tmp_path / "depth" / "b.png", np.zeros((8, 8, 3), np.uint16))
    with pytest.raises(InputError, match="16-bit single-channel"):
        read_depth(rgb16)
    (tmp_path / "depth" / "c.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="not a readable image"):
        read_depth(tmp_path / "depth" / "c.png")
    with pytest.raises(InputError, match="no such file"):
        read_depth(tmp_path / "depth" / "missing.png")
