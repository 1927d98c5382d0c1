"""16-bit depth PNGs on disk: finding them in a dataset folder (:func:`.depth.read_depth` reads them).

Two layouts are recognised: 7-Scenes (Shotton et al., CVPR 2013), where each frame's depth is
``frame-NNNNNN.depth.png`` beside its colour image, and the RGB-D datasets that keep depth in a
``depth/`` folder of PNGs (e.g. RGB-D-D, He et al., CVPR 2021). Depth is ``uint16`` H×W in
millimetres, 0 meaning no measurement.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError

DEPTH_SUFFIX = ".depth.png"
DEPTH_FOLDER = "depth"


def find_depth_files(folder: str | Path) -> list[Path]:
    """Depth PNGs under ``folder`` (recursively), sorted: ``*.depth.png`` or ``depth/*.png``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    found = {p for p in folder.rglob("*.png") if p.is_file() and
             (p.name.lower().endswith(DEPTH_SUFFIX) or p.parent.name.lower() == DEPTH_FOLDER)}
    if not found:
        raise InputError(f"{folder}: no depth maps (*{DEPTH_SUFFIX} or {DEPTH_FOLDER}/*.png)")
    return sorted(found)
