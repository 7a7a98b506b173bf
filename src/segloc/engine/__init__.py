"""Training infrastructure shared by pretraining, fine-tuning and CHR: run folders (marked, locked),
atomic and finite checkpoints, exact resume (RNG states), CSV + TensorBoard logs, distributed
set-up, schedules."""
from segloc.engine.atomic import atomic_write_bytes, atomic_write_text
from segloc.engine.checkpoint import (NonFiniteError, atomic_save, check_finite, invalid_tensors, latest_checkpoint,
                                      load_checkpoint, load_latest_good, prune_checkpoints, restore_training_state)
from segloc.engine.distributed import DistInfo, all_gather_cat, init_distributed, is_main
from segloc.engine.logger import RunLogger
from segloc.engine.rng import get_rng_state, seed_everything, set_rng_state
from segloc.engine.rundir import check_resumed_config, open_run_dir
from segloc.engine.schedule import cosine_with_warmup, multistep_with_warmup

__all__ = [
    "atomic_write_bytes", "atomic_write_text", "NonFiniteError", "atomic_save", "check_finite", "invalid_tensors",
    "latest_checkpoint", "load_checkpoint", "load_latest_good", "prune_checkpoints", "restore_training_state",
    "DistInfo", "all_gather_cat", "init_distributed", "is_main", "RunLogger", "get_rng_state", "seed_everything",
    "set_rng_state", "check_resumed_config", "open_run_dir", "cosine_with_warmup", "multistep_with_warmup",
]
