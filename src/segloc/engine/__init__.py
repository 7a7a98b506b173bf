"""Training infrastructure shared by pretraining, fine-tuning and CHR: run folders (marked, locked),
atomic and finite checkpoints, exact resume (RNG states), CSV + TensorBoard logs, distributed
set-up, schedules.

The names below load their module on first use, so that reading a config (``segloc.engine.config``)
or the CLI's help does not import torch."""

from __future__ import annotations

import importlib

_HOMES = {
    "atomic": ("atomic_write_bytes", "atomic_write_text"),
    "checkpoint": (
        "NonFiniteError",
        "atomic_save",
        "check_finite",
        "invalid_tensors",
        "latest_checkpoint",
        "load_checkpoint",
        "load_latest_good",
        "prune_checkpoints",
        "restore_training_state",
    ),
    "distributed": ("DistInfo", "all_gather_cat", "init_distributed", "is_main", "resolve_device"),
    "logger": ("RunLogger",),
    "rng": ("get_rng_state", "seed_everything", "set_rng_state"),
    "rundir": ("check_resumed_config", "open_run_dir"),
    "schedule": ("cosine_with_warmup", "multistep_with_warmup"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> object:
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'segloc.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(f"segloc.engine.{_MODULE_OF[name]}"), name)
