"""File handling shared by the commands: inputs by path / folder / glob (outputs: ``atomic_files``)."""
from __future__ import annotations

import glob
import os
import sys
from pathlib import Path
from typing import Sequence

from ..errors import InputError


def default_kodak() -> Path:
    """Kodak from ``$MMCODEC_DATASETS`` or ``../shared/datasets`` (the project's data layout)."""
    return Path(os.environ.get("MMCODEC_DATASETS", "../shared/datasets")) / "kodak"


def expand_inputs(patterns: Sequence[str], suffixes: set[str]) -> tuple[list[Path], bool]:
    """Files named by paths, folders or globs; the flag says whether it was more than one file."""
    files: list[Path] = []
    many = len(patterns) > 1
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            many = True
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes)
        elif any(ch in pattern for ch in "*?["):
            many = True
            files += sorted(Path(p) for p in glob.glob(pattern) if Path(p).suffix.lower() in suffixes)
        else:
            files.append(path)
    if not files:
        raise InputError("no input files matched")
    return files, many


def output_folder(output: str | None, many: bool) -> Path | None:
    """``-o`` taken as a folder to write into: with several inputs, or when it names an existing folder."""
    if output and (many or Path(output).is_dir()):
        return Path(output)
    return None


def progress_bar(items: list, enabled: bool, what: str):
    if not enabled:
        return items
    from tqdm import tqdm
    return tqdm(items, desc=what, unit="file", file=sys.stderr)


def read_input(path: Path) -> bytes:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return path.read_bytes()
