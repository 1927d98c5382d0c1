"""Training data: every image of a folder tree, held in memory, served as random crops."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..modalities.image import IMAGE_SUFFIXES, read_image


def list_images(root: str | Path) -> list[Path]:
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


class RandomCropImages(torch.utils.data.Dataset):
    """Random ``crop`` × ``crop`` patches with random flips, as float tensors in [0, 1].

    Images smaller than the crop are padded by reflection. ``length`` sets how many samples
    one epoch has (crops are drawn afresh each time).
    """

    def __init__(self, paths: list[Path], crop: int = 256, length: int = 10_000, channels: int = 3) -> None:
        if not paths:
            raise ValueError("no training images found")
        self.images = [read_image(p, channels=channels).pixels for p in paths]
        self.crop, self.length = crop, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = np.random.default_rng(torch.randint(0, 2**62, ()).item())
        image = self.images[int(rng.integers(len(self.images)))]
        peak = 65535.0 if image.dtype == np.uint16 else 255.0
        h, w = image.shape[:2]
        if h < self.crop or w < self.crop:
            image = np.pad(image, ((0, max(0, self.crop - h)), (0, max(0, self.crop - w)), (0, 0)), mode="reflect")
            h, w = image.shape[:2]
        top, left = int(rng.integers(h - self.crop + 1)), int(rng.integers(w - self.crop + 1))
        patch = image[top:top + self.crop, left:left + self.crop]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        if rng.random() < 0.5:
            patch = patch[::-1]
        return torch.from_numpy(np.ascontiguousarray(patch).astype(np.float32) / peak).permute(2, 0, 1)
