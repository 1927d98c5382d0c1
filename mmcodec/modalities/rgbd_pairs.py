"""Finding colour + depth pairs in the usual RGB-D dataset layouts, and splitting them by frames.

Layouts recognised under a root folder (searched recursively):

- ``color/NAME.(jpg|png)`` + ``depth/NAME.png`` in sibling folders (RGB-D-D, ICL-NUIM, Redwood;
  ``rgb/`` and ``image/`` are accepted for ``color/``);
- ``NAME.color.(jpg|png)`` + ``NAME.depth.png`` side by side (Microsoft 7-Scenes);
- ``NAME_color.(jpg|png)`` + ``NAME_depth.png`` side by side (Open3D's sample pairs).

Folder and file names match in any case (``Depth/``, ``RGB/``, ``.PNG``).

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
from .depth_files import DEPTH_FOLDER, depth_frame, find_depth_files

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


class _FolderIndex:
    """Files and colour folders by lower-case name, listed once per folder (names match in any case)."""

    def __init__(self) -> None:
        self._folders: dict[Path, dict[str, Path]] = {}
        self._colour_folders: dict[Path, list[Path]] = {}

    def files(self, folder: Path) -> dict[str, Path]:
        if folder not in self._folders:
            self._folders[folder] = ({p.name.lower(): p for p in folder.iterdir() if p.is_file()}
                                     if folder.is_dir() else {})
        return self._folders[folder]

    def colour(self, folder: Path, stem: str) -> Path | None:
        """``folder/stem`` with a colour suffix (the first of COLOR_SUFFIXES present), any case."""
        files = self.files(folder)
        return next((files[f"{stem}{s}".lower()] for s in COLOR_SUFFIXES if f"{stem}{s}".lower() in files), None)

    def colour_folders(self, sequence: Path) -> list[Path]:
        """The colour folders beside a ``depth/`` folder, in the order of COLOR_FOLDERS, any case."""
        if sequence not in self._colour_folders:
            found = {p.name.lower(): p for p in sequence.iterdir() if p.is_dir()}
            self._colour_folders[sequence] = [found[name] for name in COLOR_FOLDERS if name in found]
        return self._colour_folders[sequence]


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
    index = _FolderIndex()
    try:
        depths = find_depth_files(root)
    except InputError:   # none: the error below names the pair layouts
        depths = []
    for depth in depths:
        sequence, frame = depth_frame(depth)
        if depth.parent.name.lower() == DEPTH_FOLDER:
            color = next(filter(None, (index.colour(f, frame) for f in index.colour_folders(sequence))), None)
        else:   # NAME.depth.png beside NAME.color.jpg, NAME_depth.png beside NAME_color.jpg
            color = index.colour(depth.parent, f"{frame}{depth.name[len(frame)]}color")
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
