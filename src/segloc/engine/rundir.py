"""Run folders: created fresh, resumed on request, never silently overwritten."""
from __future__ import annotations

import shutil
from pathlib import Path

from segloc.errors import SeglocError


def prepare_run_dir(path: Path | str, resume: bool = False, overwrite: bool = False) -> Path:
    """Return a usable run folder.

    A non-empty existing folder is an error unless ``resume`` (continue in it) or ``overwrite``
    (the user explicitly asked to delete it).
    """
    path = Path(path)
    if path.exists() and any(path.iterdir()):
        if overwrite:
            shutil.rmtree(path)
        elif not resume:
            raise SeglocError(
                f"{path}: run folder exists and is not empty; pass --resume to continue it "
                "or --overwrite to replace it"
            )
    path.mkdir(parents=True, exist_ok=True)
    return path
