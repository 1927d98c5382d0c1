"""Finding colour + depth pairs in the usual RGB-D dataset layouts, and splitting them by frames.

Layouts recognised under a root folder (searched recursively):

- ``color/NAME.(jpg|png)`` + ``depth/NAME.png`` in sibling folders (RGB-D-D, ICL-NUIM, Redwood;
  ``rgb/`` and ``image/`` are accepted for ``color/``);
- ``NAME.color.(jpg|png)`` + ``NAME.depth.png`` side by side (Microsoft 7-Scenes);
- ``NAME_color.(jpg|png)`` + ``NAME_depth.png`` side by side (Open3D's sample pairs).

The depth unit is ``unit`` for every pair, except with ``unit="auto"``, where a name starting with
``TUM`` is read as TUM's 1/5000 m, ``SUN`` as SUN RGB-D's bit-rotated millimetres, ``NYU`` as
raw Kinect values and anything else as millimetres (the conventions of
``../shared/datasets/README.md``).

Frames of one sequence are strongly correlated, so :func:`split_by_frames` holds out a
*contiguous* range of each sequence (sorted by name: timestamps and frame numbers sort in time).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .depth import check_unit
from .depth_files import depth_frame, find_depth_files

COLOR_SUFFIXES = (".jpg", ".jpeg", ".png")
COLOR_FOLDERS = ("color", "rgb", "image")


@dataclass(frozen=True)
class RgbdPair:
    color: Path | None   # None: a depth map without colour (:func:`find_depth_frames`)
    depth: Path
    unit: str
    sequence: str    # root name + folder of the pair, e.g. 'rgbdd' (splits are made per sequence)
    name: str        # frame name, sortable in time


def _unit_for(name: str, unit: str) -> str:
    if unit != "auto":
        return unit
    for prefix, guessed in (("TUM", "tum"), ("SUN", "sun"), ("NYU", "raw")):
        if name.upper().startswith(prefix):
            return guessed
    return "mm"


def _find_color(folder: Path, stem: str) -> Path | None:
    for suffix in COLOR_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _sequence_name(root: Path, sequence: Path) -> str:
    """``root``'s name + the sequence folder below it (``root`` itself when the frames' sequence
    folder lies above it, e.g. ``root`` = a ``depth/`` folder)."""
    below = sequence.relative_to(root) if sequence.is_relative_to(root) else Path()
    return (Path(root.resolve().name) / below).as_posix()


def find_rgbd_pairs(root: str | Path, unit: str = "auto") -> list[RgbdPair]:
    """Every colour + depth pair under ``root``, sorted by sequence then frame name."""
    root = Path(root)
    if unit != "auto":
        check_unit(unit)
    if not root.is_dir():
        raise InputError(f"{root}: no such folder")
    pairs: list[RgbdPair] = []
    for depth in sorted(root.rglob("*.png")):
        name = depth.name
        color = None
        if depth.parent.name == "depth":
            for folder in COLOR_FOLDERS:
                color = _find_color(depth.parent.parent / folder, depth.stem)
                if color:
                    break
            sequence, frame = depth.parent.parent, depth.stem
        elif name.endswith(".depth.png"):
            frame = name[: -len(".depth.png")]
            color, sequence = _find_color(depth.parent, f"{frame}.color"), depth.parent
        elif name.endswith("_depth.png"):
            frame = name[: -len("_depth.png")]
            color, sequence = _find_color(depth.parent, f"{frame}_color"), depth.parent
        if color is not None:
            pairs.append(RgbdPair(color, depth, _unit_for(frame, unit), _sequence_name(root, sequence), frame))
    if not pairs:
        raise InputError(f"{root}: no colour + depth pairs found (expected color/ + depth/ folders, "
                         "NAME.color.jpg + NAME.depth.png, or NAME_color + NAME_depth files)")
    return sorted(pairs, key=lambda p: (p.sequence, p.name))


def find_depth_frames(root: str | Path, unit: str = "auto") -> list[RgbdPair]:
    """Every depth map under ``root`` as a frame without colour (``color`` None), in the layouts of
    :func:`mmcodec.modalities.depth_files.find_depth_files`, named and united as
    :func:`find_rgbd_pairs` names them: for measuring a depth-only codec on depth maps alone."""
    root = Path(root)
    if unit != "auto":
        check_unit(unit)
    frames = []
    for depth in find_depth_files(root):
        sequence, frame = depth_frame(depth)
        frames.append(RgbdPair(None, depth, _unit_for(frame, unit), _sequence_name(root, sequence), frame))
    return sorted(frames, key=lambda p: (p.sequence, p.name))


def split_by_frames(pairs: list[RgbdPair], test_fraction: float) -> tuple[list[RgbdPair], list[RgbdPair]]:
    """(train, test): the last ``test_fraction`` of every sequence's frames, as one contiguous
    range, is held out (at least one frame when the fraction is positive and a sequence has two)."""
    if not 0.0 <= test_fraction < 1.0:
        raise InputError(f"test fraction must be in [0, 1), got {test_fraction}")
    train: list[RgbdPair] = []
    test: list[RgbdPair] = []
    sequences: dict[str, list[RgbdPair]] = {}
    for pair in pairs:
        sequences.setdefault(pair.sequence, []).append(pair)
    for frames in sequences.values():
        frames = sorted(frames, key=lambda p: p.name)
        held = round(len(frames) * test_fraction)
        if test_fraction > 0 and len(frames) > 1:
            held = max(1, held)
        cut = len(frames) - held
        train += frames[:cut]
        test += frames[cut:]
    return train, test
