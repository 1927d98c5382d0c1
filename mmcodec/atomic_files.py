"""Writing a file whole or not at all: into a temporary sibling, then renamed onto its path.

So an interrupted command or export never leaves a half-written output, and a reader that polls
for the file (another training lane waiting for an export) never sees one.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from .errors import InputError


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through ``write(tmp)`` into a temporary sibling, then rename onto ``path``. A path that
    is a folder, or lies under a file, is refused with :class:`InputError` before anything is written."""
    if path.is_dir():
        raise InputError(f"'{path}' is a folder: give a file name")
    if any(parent.exists() and not parent.is_dir() for parent in path.parents):
        raise InputError(f"cannot write '{path}': a part of its folder path is a file")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mmcodec-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
