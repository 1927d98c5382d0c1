"""16-bit depth PNGs on disk: finding them in a dataset folder (:func:`.depth.read_depth` reads them).

Three layouts are recognised, those of :mod:`.rgbd_pairs`: 7-Scenes (Shotton et al., CVPR 2013),
where each frame's depth is ``frame-NNNNNN.depth.png`` beside its colour image; Open3D's sample
pairs (``NAME_depth.png``); and the RGB-D datasets that keep depth in a ``depth/`` folder of PNGs
(e.g. RGB-D-D, He et al., CVPR 2021). Depth is ``uint16`` H×W, 0 meaning no measurement.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError

DEPTH_SUFFIXES = (".depth.png", "_depth.png")
DEPTH_FOLDER = "depth"


def is_depth_file(path: Path) -> bool:
    """Whether a PNG's name or folder marks it as a depth map."""
    name = path.name.lower()
    return name.endswith(".png") and (name.endswith(DEPTH_SUFFIXES) or path.parent.name.lower() == DEPTH_FOLDER)


def depth_frame(path: Path) -> tuple[Path, str]:
    """The sequence folder and the frame a depth file belongs to: ``SEQ/depth/NAME.png`` → (SEQ,
    NAME); ``SEQ/NAME.depth.png`` or ``SEQ/NAME_depth.png`` → (SEQ, NAME)."""
    if path.parent.name.lower() == DEPTH_FOLDER:
        return path.parent.parent, path.stem
    return path.parent, next(path.name[: -len(s)] for s in DEPTH_SUFFIXES if path.name.lower().endswith(s))


def find_depth_files(folder: str | Path) -> list[Path]:
    """Depth PNGs under ``folder`` (recursively), sorted: ``*.depth.png``, ``*_depth.png`` or ``depth/*.png``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    found = sorted(p for p in folder.rglob("*") if p.is_file() and is_depth_file(p))
    if not found:
        names = ", ".join(f"*{suffix}" for suffix in DEPTH_SUFFIXES)
        raise InputError(f"{folder}: no depth maps ({names} or {DEPTH_FOLDER}/*.png)")
    return found
