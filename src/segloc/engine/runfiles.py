"""Names inside a run folder, shared by every task, and the model file a run folder stands for."""

from __future__ import annotations

from pathlib import Path

from segloc.engine.checkpoint import latest_checkpoint, load_checkpoint
from segloc.engine.rundir import CHECKPOINT_DIR
from segloc.errors import SeglocError

FINAL_MODEL = "model_final.pt"
BEST_MODEL = "model_best.pt"  # the model that scored best on the validation set during training


def run_model_file(path: Path | str) -> Path:
    """A model or checkpoint file as given, else a run folder's final model, else its latest checkpoint,
    so every command that reads a model also takes the run folder that made it."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise SeglocError(f"{path}: no such model file or run folder")
    if (path / FINAL_MODEL).is_file():
        return path / FINAL_MODEL
    latest = latest_checkpoint(path / CHECKPOINT_DIR)
    if latest is None:
        raise SeglocError(f"{path}: run folder has neither {FINAL_MODEL} nor {CHECKPOINT_DIR}/step_*.pt")
    return latest


def trained_seconds(run_dir: Path | str) -> float:
    """Training seconds recorded in a run folder's newest checkpoint (0 without a readable one): the time a
    resume carries over, so a stage interrupted and resumed is timed whole."""
    latest = latest_checkpoint(Path(run_dir) / CHECKPOINT_DIR)
    if latest is None:
        return 0.0
    try:
        return float(load_checkpoint(latest, mmap=True).get("train_seconds", 0.0))
    except SeglocError:
        return 0.0  # the resume sets a broken checkpoint aside and says so
