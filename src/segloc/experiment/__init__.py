"""The end-to-end experiment: the paper's comparison of inits, resumable stage by stage.

The names below load on first use, so that reading the stage list (``segloc --help``) does not
import torch."""
from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {"ExperimentConfig": "segloc.experiment.config", "run_experiment": "segloc.experiment.pipeline",
            "find_config": "segloc.config"}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
