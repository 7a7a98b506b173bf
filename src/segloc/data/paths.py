"""Safe resolution of file names found inside dataset annotation files."""
from __future__ import annotations

from pathlib import Path

from segloc.errors import DatasetError


def resolve_inside(root: Path, name: str, source: Path | str) -> Path:
    """Join ``name`` to ``root`` and refuse any result outside ``root`` (absolute paths, ``..``)."""
    root = Path(root).resolve()
    candidate = (root / name).resolve()
    if candidate != root and root not in candidate.parents:
        raise DatasetError(f"{source}: path {name!r} escapes the dataset root {root} (a link or '..')")
    return candidate
