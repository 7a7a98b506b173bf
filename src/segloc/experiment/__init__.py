"""The end-to-end experiment: the paper's comparison of inits, resumable stage by stage.

The names below load on first use, so that reading the stage list (``segloc --help``) does not
import torch."""

from __future__ import annotations

from segloc.lazy import lazy_exports

__all__, __getattr__ = lazy_exports(
    __name__, {".config": ("ExperimentConfig",), ".pipeline": ("run_experiment",), "segloc.config": ("find_config",)}
)
