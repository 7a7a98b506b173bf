"""Atomic checkpoint files: written to a temporary name, flushed, then renamed into place."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch

from segloc.errors import SeglocError


def atomic_save(obj: Any, path: Path | str) -> Path:
    """``torch.save`` to ``path`` so that a crash never leaves a half-written file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint with ``weights_only=True`` (tensors and plain Python values only)."""
    path = Path(path)
    if not path.is_file():
        raise SeglocError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise SeglocError(f"{path}: cannot load checkpoint (corrupt, or holds non-tensor objects): {exc}") from exc


def latest_checkpoint(folder: Path | str, pattern: str = r"step_(\d+)\.pt") -> Path | None:
    """The checkpoint with the highest step number in ``folder``, or None."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := re.fullmatch(pattern, p.name))]
    return max(found)[1] if found else None


def restore_training_state(path: Path | str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                           scheduler: Any, scaler: Any, map_location: str | torch.device = "cpu") -> dict:
    """Load a training checkpoint into model, optimizer, scheduler, scaler and the RNGs; return it.

    The checkpoint holds the keys ``model``, ``optimizer``, ``scheduler``, ``scaler``, ``rng`` and
    ``step`` (the layout both the pretraining and CHR trainers write)."""
    from segloc.engine.rng import set_rng_state

    state = load_checkpoint(path, map_location=map_location)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])
    return state
