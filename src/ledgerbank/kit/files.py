"""Private files and folders: data files are created 0600 and folders 0700, never world-readable."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def _tighten(path: Path, mode: int) -> None:
    with contextlib.suppress(OSError):  # someone else's file or folder stays as it is
        found = path.stat()
        if found.st_uid == os.getuid() and found.st_mode & 0o077:
            path.chmod(mode)


def private_dir(path: Path, *, tighten: bool = False) -> Path:
    """Create a folder readable by its owner only; `tighten` also closes an existing one
    (only for ledgerbank's own data folder: never someone's home or a shared folder)."""
    if not path.exists():
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    elif tighten:
        _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create an empty file 0600 if it is missing; tighten an existing one we own."""
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    os.close(fd)
    _tighten(path, FILE_MODE)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace a file's content atomically; the file is 0600 from its first byte."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)
