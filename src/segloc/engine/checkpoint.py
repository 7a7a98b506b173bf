"""Atomic checkpoint files: checked finite, written to a temporary name, flushed, renamed into place;
resume picks the newest checkpoint that loads and is finite, setting broken ones aside."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from segloc.engine.atomic import write_atomically
from segloc.errors import SeglocError, log

CHECKPOINT_PATTERN = r"step_(\d+)\.pt"
SET_ASIDE_SUFFIX = ".bad"


class NonFiniteError(SeglocError):
    """A checkpoint or weights file would hold NaN or infinite values."""


def invalid_tensors(obj: Any, limit: float = math.inf, name: str = "") -> list[str]:
    """Names of the floating tensors in a nested dict / list holding NaN, inf, or values beyond ``limit``."""
    if isinstance(obj, torch.Tensor):
        if not obj.is_floating_point() or obj.numel() == 0:
            return []
        good = bool(torch.isfinite(obj).all()) and (limit == math.inf or float(obj.abs().max()) <= limit)
        return [] if good else [name or "tensor"]
    children: Iterable[tuple[Any, Any]]
    if isinstance(obj, dict):
        children = obj.items()
    elif isinstance(obj, (list, tuple)):
        children = enumerate(obj)
    else:
        return []
    return [
        bad for key, value in children for bad in invalid_tensors(value, limit, f"{name}.{key}" if name else str(key))
    ]


def check_finite(obj: Any, source: Path | str) -> None:
    """Raise :class:`NonFiniteError` naming ``source`` and the first tensors with NaN / inf values."""
    bad = invalid_tensors(obj)
    if bad:
        more = f" (+{len(bad) - 3} more)" if len(bad) > 3 else ""
        raise NonFiniteError(f"{source}: non-finite values in {', '.join(bad[:3])}{more}")


def atomic_save(obj: Any, path: Path | str) -> Path:
    """``torch.save`` to ``path`` so that a crash never leaves a half-written file, and never with NaN/inf."""
    path = Path(path)
    check_finite(obj, path)
    return write_atomically(path, lambda f: torch.save(obj, f))


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu", mmap: bool = False) -> dict:
    """Load a checkpoint with ``weights_only=True`` (tensors and plain Python values only); ``mmap`` maps the
    tensors instead of reading them, for a caller that needs only the plain values."""
    path = Path(path)
    if not path.is_file():
        raise SeglocError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SeglocError(
            f"{path}: cannot load checkpoint (corrupt, truncated, or holds non-tensor objects): {reason}"
        ) from exc
    if not isinstance(state, dict):
        raise SeglocError(f"{path}: not a segloc checkpoint (holds a {type(state).__name__}, not a dict)")
    return state


def checkpoints(folder: Path | str, pattern: str = CHECKPOINT_PATTERN) -> list[Path]:
    """Checkpoints of ``folder`` by step number, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := re.fullmatch(pattern, p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(folder: Path | str, pattern: str = CHECKPOINT_PATTERN) -> Path | None:
    """The checkpoint with the highest step number in ``folder``, or None."""
    found = checkpoints(folder, pattern)
    return found[-1] if found else None


def prune_checkpoints(folder: Path | str, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints of ``folder``."""
    for old in checkpoints(folder)[:-keep]:
        old.unlink(missing_ok=True)


def load_latest_good(folder: Path | str, map_location: str | torch.device = "cpu") -> tuple[Path, dict] | None:
    """The newest checkpoint of ``folder`` that loads and holds only finite values, with its contents.

    A broken newer one (truncated by a full disk, corrupted, non-finite) is renamed to
    ``<name>.bad`` with a warning and the previous one is tried. None when the folder has none.
    """
    found = checkpoints(folder)
    for path in reversed(found):
        try:
            state = load_checkpoint(path, map_location)
            check_finite(state, path)
            return path, state
        except SeglocError as exc:
            aside = path.with_name(path.name + SET_ASIDE_SUFFIX)
            os.replace(path, aside)
            log.warning("%s; set aside as %s, falling back to the previous checkpoint", exc, aside.name)
    if found:
        raise SeglocError(f"{Path(folder)}: no usable checkpoint (all {len(found)} set aside as *{SET_ASIDE_SUFFIX})")
    return None


def restore_training_state(
    state: dict, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any, scaler: Any
) -> None:
    """Load a training checkpoint's contents into model, optimizer, scheduler, scaler and the RNGs.

    The checkpoint holds the keys ``model``, ``optimizer``, ``scheduler``, ``scaler``, ``rng`` and
    ``step`` (the layout both the pretraining and CHR trainers write)."""
    from segloc.engine.rng import set_rng_state

    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])
