"""What the commands share about their files: outputs never replaced unless asked, bad input skipped only on request."""
from __future__ import annotations

from pathlib import Path

from segloc.errors import SeglocError

SKIP_BAD_HELP = ("Skip broken records (bad annotations, unreadable images) with one warning and a count, "
                 "instead of stopping at the first.")


def check_new_output(path: Path, overwrite: bool) -> None:
    """Refuse to write over an existing file (or anything that is not a file) without ``--overwrite``."""
    if path.is_dir():
        raise SeglocError(f"{path}: is a folder; give a file name")
    if path.exists() and not overwrite:
        raise SeglocError(f"{path}: exists; pass --overwrite to replace it")


def check_new_folder(path: Path, overwrite: bool) -> None:
    """Refuse to write into a non-empty folder (or over a file) without ``--overwrite``."""
    if path.is_file():
        raise SeglocError(f"{path}: is a file; give a folder")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise SeglocError(f"{path}: exists and is not empty; pass --overwrite to write into it")
