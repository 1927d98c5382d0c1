"""RGB-D training data: colour + depth frames held in memory, served as joint random crops.

Each frame becomes one float tensor with the *target* channels first and the context after
(the convention of every multimodal codec here: the loss compares ``x_hat`` with the first
``x_hat.shape[1]`` channels):

- target ``depth``: depth in millimetres / 65535, holes filled (:func:`fill_holes`), then the
  context;
- target ``rgb``: colour / 255, then the context.

Context ``none`` (single-modality), ``rgb`` (the colour image), ``decoded-rgb`` (the colour
image after coding with the shipped RGB model ``context_model``, exactly as a decoder sees it:
made once per frame through :func:`mmcodec.compress` / :func:`mmcodec.decompress` and cached
as PNG in ``cache_dir``) or ``depth``. Crops are taken at the same place in every channel.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import InputError
from ..modalities.depth import DepthMap, coding_plane, read_depth
from ..modalities.image import read_image, validate_pixels, write_image
from ..modalities.rgbd_pairs import RgbdPair

TARGETS = ("depth", "rgb")
CONTEXTS = ("none", "rgb", "decoded-rgb", "depth")


def rgb_plane(pixels: np.ndarray) -> np.ndarray:
    """8-bit H×W×3 colour → (3, H, W) float32 in [0, 1]."""
    return pixels.transpose(2, 0, 1).astype(np.float32) / 255.0


def depth_plane(depth: DepthMap) -> np.ndarray:
    """A depth map → (1, H, W) float32: millimetres / 65535, holes filled."""
    return coding_plane(depth)[None]


def _decoded_rgb(pair: RgbdPair, context_model: str, cache_dir: Path | None) -> np.ndarray:
    cached = cache_dir / f"{pair.sequence.replace('/', '_')}-{pair.name}.png" if cache_dir else None
    if cached is not None and cached.is_file():
        return read_image(cached).pixels
    from .. import api

    pixels = api.compress_and_reconstruct(read_image(pair.color, channels=3), model=context_model)[1]  # = decoded
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_image(cached, validate_pixels(pixels))
    return pixels


def frame_tensor(pair: RgbdPair, target: str, context: str, context_model: str | None = None,
                 cache_dir: Path | None = None) -> np.ndarray:
    """One frame as (C, H, W) float32: target channels first, then the context channels."""
    if target not in TARGETS or context not in CONTEXTS:
        raise InputError(f"unknown target '{target}' or context '{context}'")
    planes: list[np.ndarray] = []
    for part in (target, context):
        if part == "depth":
            planes.append(depth_plane(read_depth(pair.depth, pair.unit)))
        elif part == "rgb":
            planes.append(rgb_plane(read_image(pair.color, channels=3).pixels))
        elif part == "decoded-rgb":
            if not context_model:
                raise InputError("context 'decoded-rgb' needs a context_model (a shipped RGB model id)")
            pixels = _decoded_rgb(pair, context_model, cache_dir)
            planes.append(rgb_plane(pixels))
    shapes = {p.shape[1:] for p in planes}
    if len(shapes) != 1:
        raise InputError(f"{pair.color.name} and {pair.depth.name} differ in size: {sorted(shapes)}")
    return np.concatenate(planes, axis=0)


class RandomCropRgbd(torch.utils.data.Dataset):
    """Joint random ``crop`` × ``crop`` patches (with joint flips) of in-memory RGB-D frames."""

    def __init__(self, frames: list[np.ndarray], crop: int = 256, length: int = 10_000) -> None:
        if not frames:
            raise InputError("no RGB-D training frames")
        self.frames, self.crop, self.length = frames, crop, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = np.random.default_rng(torch.randint(0, 2**62, ()).item())
        frame = self.frames[int(rng.integers(len(self.frames)))]
        _, h, w = frame.shape
        if h < self.crop or w < self.crop:
            frame = np.pad(frame, ((0, 0), (0, max(0, self.crop - h)), (0, max(0, self.crop - w))), mode="reflect")
            _, h, w = frame.shape
        top, left = int(rng.integers(h - self.crop + 1)), int(rng.integers(w - self.crop + 1))
        patch = frame[:, top:top + self.crop, left:left + self.crop]
        if rng.random() < 0.5:
            patch = patch[:, :, ::-1]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        return torch.from_numpy(np.ascontiguousarray(patch))


def load_rgbd_frames(pairs: list[RgbdPair], target: str, context: str, context_model: str | None = None,
                     cache_dir: Path | None = None) -> list[np.ndarray]:
    return [frame_tensor(p, target, context, context_model, cache_dir) for p in pairs]


def centre_crop(frame: np.ndarray, size: int) -> torch.Tensor:
    _, h, w = frame.shape
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return torch.from_numpy(np.ascontiguousarray(frame[:, top:top + size, left:left + size]))


def context_cache_dir(runs: Path, context_model: str) -> Path:
    """Where the decoded colour of ``context_model`` is cached: named by the model *and* its weights
    digest, so new weights under the same model id never reuse another model's decoded images."""
    from ..zoo import find_entry

    return runs / "context-cache" / f"{context_model}-{find_entry(context_model).digest}"


def rgbd_training_data(config, is_main: bool = True) -> tuple[RandomCropRgbd, list[torch.Tensor]]:
    """The training crops and validation crops of an RGB-D run (``config``: a TrainConfig).

    Frames are split per sequence by contiguous ranges: the last ``test_fraction`` is left out
    entirely (for testing), then the last ``validation_fraction`` of the rest validates."""
    from ..modalities.rgbd_pairs import find_rgbd_pairs, split_by_frames

    roots = config.data if isinstance(config.data, (list, tuple)) else [config.data]
    pairs = [p for root in roots for p in find_rgbd_pairs(root, config.depth_unit)]
    pairs, _test = split_by_frames(pairs, config.test_fraction)
    train, validation = split_by_frames(pairs, config.validation_fraction)
    cache = None  # shared by the runs beside this one: the decoded colour depends on the weights only
    if config.context == "decoded-rgb":
        cache = context_cache_dir(Path(config.run_dir).parent, str(config.context_model))
    args = (config.target, config.context, config.context_model, cache)
    data = RandomCropRgbd(load_rgbd_frames(train, *args), crop=config.crop, length=1 << 30)
    val_crops = [centre_crop(f, config.crop) for f in load_rgbd_frames(validation, *args)] if is_main else []
    return data, val_crops
