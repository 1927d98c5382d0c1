"""A tiny RGB-D dataset folder made of real 7-Scenes frames, for the training tests."""
from pathlib import Path

import imagecodecs
import numpy as np

from mmcodec.modalities.depth import read_depth
from mmcodec.modalities.image import read_image

KITCHEN = Path(__file__).resolve().parents[2] / "../shared/datasets/rgbd/redkitchen"


def make_rgbd_folder(root: Path, frames: tuple[int, ...] = (0, 4, 8, 12), height: int = 96, width: int = 128) -> Path:
    """``height`` × ``width`` crops (with depth holes) of the given frames in the color/ + depth/ layout."""
    (root / "color").mkdir(parents=True, exist_ok=True)
    (root / "depth").mkdir(exist_ok=True)
    for i, frame in enumerate(frames):
        color = read_image(KITCHEN / f"frame-{frame:06d}.color.jpg", channels=3).pixels[200:200 + height, 0:width]
        depth = read_depth(KITCHEN / f"frame-{frame:06d}.depth.png").pixels[200:200 + height, 0:width]
        (root / "color" / f"{i:03d}.png").write_bytes(imagecodecs.png_encode(np.ascontiguousarray(color)))
        (root / "depth" / f"{i:03d}.png").write_bytes(imagecodecs.png_encode(np.ascontiguousarray(depth)))
    assert (read_depth(root / "depth" / "000.png").pixels == 0).any()
    return root
