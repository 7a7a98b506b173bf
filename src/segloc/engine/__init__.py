"""Training infrastructure shared by pretraining, fine-tuning and CHR: run folders (marked, locked),
atomic and finite checkpoints, exact resume (RNG states), CSV + TensorBoard logs, distributed
set-up, schedules.

The names below load their module on first use, so that reading a config (``segloc.engine.config``)
or the CLI's help does not import torch."""

from __future__ import annotations

from segloc.lazy import lazy_exports

_HOMES = {
    ".atomic": ("atomic_write_bytes", "atomic_write_text"),
    ".checkpoint": (
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
    ".distributed": ("DistInfo", "all_gather_cat", "init_distributed", "is_main", "resolve_device"),
    ".logger": ("RunLogger",),
    ".rng": ("get_rng_state", "seed_everything", "set_rng_state"),
    ".rundir": ("check_resumed_config", "open_run_dir"),
    ".schedule": ("cosine_with_warmup", "multistep_with_warmup"),
}
__all__, __getattr__ = lazy_exports(__name__, _HOMES)
