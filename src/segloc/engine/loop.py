"""One training loop for pretraining, fine-tuning and CHR, in the spirit of detectron2's trainer with hooks.

A :class:`Task` supplies the model, its per-rank batches and a step function (forward and
:meth:`Engine.backward` per micro-batch); the engine owns everything else: device and AMP, DDP,
gradient accumulation, clipping, the learning-rate schedule, logging, the progress bar, atomic
checkpoints (``checkpoints/step_%08d.pt`` every ``train.checkpoint_every`` steps, at each epoch end
and when a call ends; the newest ``train.keep_checkpoints`` kept), exact resume with every rank's
RNG state and of the training time spent so far (``train_seconds``, logged with every row), and the
NaN stop that keeps the last good checkpoint. :func:`launch` adds the run-folder rules: the task is
built (data checked) before the folder is touched, and ``resume`` with a config other than the run's
own is refused, naming the keys that differ.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from segloc.config import Config, save_config
from segloc.engine.checkpoint import (
    atomic_save,
    invalid_tensors,
    latest_checkpoint,
    load_checkpoint,
    load_latest_good,
    prune_checkpoints,
)
from segloc.engine.distributed import DistInfo, init_distributed
from segloc.engine.logger import RunLogger
from segloc.engine.rng import get_rng_state, seed_everything, set_rng_state
from segloc.engine.rundir import CHECKPOINT_DIR, check_resumed_config, open_run_dir
from segloc.errors import ConfigError, SeglocError, log

CONFIG_FILE = "config.yaml"


class TrainingDiverged(SeglocError):
    """The loss or the model became NaN or infinite; the run stopped without saving the bad state."""


def checkpoint_name(step: int) -> str:
    """The one checkpoint file name of every task (zero-padded, so names sort by step)."""
    return f"step_{step:08d}.pt"


def amp_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``train.amp`` on ``device``: None on CPU or with ``none``; bf16 falls back to
    fp16 on GPUs without bf16."""
    if precision == "none" or device.type != "cuda":
        return None
    if precision == "bf16" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def split_batch(batch: Any, index: int, parts: int) -> Any:
    """Micro-batch ``index`` of ``parts`` of a batch of tensors / lists, possibly nested in dicts and tuples."""
    if isinstance(batch, dict):
        return {k: split_batch(v, index, parts) for k, v in batch.items()}
    if isinstance(batch, tuple):
        return tuple(split_batch(v, index, parts) for v in batch)
    size = len(batch)
    return batch[index * size // parts : (index + 1) * size // parts]


class Task:
    """What a task gives the engine; subclasses set ``name``, ``model`` and ``steps_per_epoch`` and
    implement :meth:`batches` and :meth:`step`; the hooks default to doing nothing."""

    name: str = "train"
    model: torch.nn.Module
    steps_per_epoch: int
    sync_buffers: bool = True  # DDP broadcasts rank 0's buffers before each forward

    def parameters(self) -> list[torch.nn.Parameter]:
        """The parameters the optimizer trains."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def param_groups(self) -> list[tuple[list[torch.nn.Parameter], float]]:
        """The trained parameters in groups, each with its lr factor (the first group's lr is the one logged)."""
        return [(self.parameters(), 1.0)]

    def scaled_groups(self, part: torch.nn.Module, factor: float) -> list[tuple[list[torch.nn.Parameter], float]]:
        """:meth:`param_groups` with ``part``'s trained parameters at ``factor`` of the lr, the rest at 1
        (empty groups left out)."""
        trained = self.parameters()
        if factor == 1.0:
            return [(trained, 1.0)]
        scaled = {id(p) for p in part.parameters()}
        groups = [([p for p in trained if id(p) not in scaled], 1.0), ([p for p in trained if id(p) in scaled], factor)]
        return [(params, f) for params, f in groups if params]

    def batches(self, engine: Engine) -> Iterable[Any]:
        """This rank's batches of steps ``engine.step + 1`` to ``engine.end``, one per optimizer step."""
        raise NotImplementedError

    def step(self, batch: Any, engine: Engine) -> dict[str, Tensor]:
        """Forward and :meth:`Engine.backward` of one step's batch; returns scalars (``loss`` first of all)."""
        raise NotImplementedError

    def checkpoint_state(self, engine: Engine) -> dict:
        """Extra checkpoint contents (beyond model, optimizer, schedule, scaler, RNG and step)."""
        return {}

    def load_checkpoint_state(self, state: dict, engine: Engine) -> None:
        """Restore what :meth:`checkpoint_state` wrote."""

    def on_start(self, engine: Engine) -> None:
        """After resume (``engine.resumed_from``), before the first step."""

    def log_row(self, row: dict[str, float], engine: Engine) -> None:
        """Add task scalars to a logged row (in place)."""

    def after_step(self, engine: Engine) -> None:
        """After every step's logging, before its checkpoint (e.g. validation at an epoch end)."""

    def on_end(self, engine: Engine, complete: bool) -> None:
        """When the call ends; ``complete`` when the run reached its last step (save and evaluate then)."""


class Engine:
    """One run of a task: optimizer, schedule, precision, DDP, logging, checkpoints (module docstring)."""

    def __init__(
        self, task: Task, config: Config, run_dir: Path, info: DistInfo, logger: RunLogger, progress: bool
    ) -> None:
        self.task, self.config, self.run_dir, self.info, self.logger = task, config, run_dir, info, logger
        self.train_cfg = config.train  # type: ignore[attr-defined]
        self.optim_cfg = config.optim  # type: ignore[attr-defined]
        self.progress = progress and self.main and self.train_cfg.progress
        world, accum, batch = info.world_size, self.train_cfg.accum_steps, self.train_cfg.batch_size
        if batch % (world * accum):
            raise ConfigError(
                f"train.batch_size {batch} must be divisible by world size {world} x train.accum_steps {accum}"
            )
        self.per_rank = batch // world
        self.total = self.train_cfg.total_steps(task.steps_per_epoch)
        self.step = 0
        self.end = self.total
        self.lr = self.optim_cfg.scaled_lr(batch)
        task.model.to(info.device)
        if self.train_cfg.channels_last:
            task.model.to(memory_format=torch.channels_last)
        groups = [(params, factor) for params, factor in task.param_groups() if params]
        self.params = [p for params, _ in groups for p in params]
        self.optimizer = _optimizer(
            [{"params": params, "lr": self.lr * factor} for params, factor in groups], self.lr, self.optim_cfg
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, self.optim_cfg.lr_factor(self.total, task.steps_per_epoch)
        )
        self.dtype = amp_dtype(self.train_cfg.amp, info.device)
        self.scaler = torch.amp.GradScaler(info.device.type, enabled=self.dtype == torch.float16)
        self.net = _wrap_ddp(task.model, info.device, task.sync_buffers) if info.distributed else task.model
        self.checkpoint: Path | None = None  # the last good checkpoint
        self.resumed_from: Path | None = None
        self.history: list[dict[str, float]] = []
        self.seconds_before = 0.0  # training time of the calls before a resume, from the checkpoint
        self.started = time.perf_counter()

    @property
    def train_seconds(self) -> float:
        """Wall seconds this run has trained, over every call that led to the current step."""
        return self.seconds_before + time.perf_counter() - self.started

    @classmethod
    def detached(cls, task: Task, config: Config, device: torch.device, run_dir: Path) -> Engine:
        """An engine outside a run (benchmarks): the real optimizer step, no logs, no checkpoints."""
        return cls(task, config, run_dir, DistInfo(device=device), RunLogger(run_dir, enabled=False), False)

    @property
    def main(self) -> bool:
        return self.info.rank == 0

    @property
    def epoch_end(self) -> bool:
        """True right after the last step of an epoch."""
        return self.step % self.task.steps_per_epoch == 0

    def autocast(self):
        """The AMP context of ``train.amp`` (nothing on CPU)."""
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.info.device.type, dtype=self.dtype)

    def micro_batches(self) -> Iterator[int]:
        """Indices of the ``train.accum_steps`` micro-batches of a step; DDP syncs gradients on the last only."""
        accum = self.train_cfg.accum_steps
        ddp = isinstance(self.net, DistributedDataParallel)
        for index in range(accum):
            with self.net.no_sync() if ddp and index < accum - 1 else nullcontext():
                yield index

    def backward(self, loss: Tensor) -> None:
        """Backward of one micro-batch's loss, scaled for accumulation and fp16."""
        self.scaler.scale(loss / self.train_cfg.accum_steps).backward()

    def run(self, resume: bool, stop_at_step: int | None) -> None:
        """Resume (or start), train to the end or to ``stop_at_step``, checkpoint on the way."""
        self.started = time.perf_counter()
        if resume:
            self._resume()
        self.end = self.total if stop_at_step is None else max(self.step, min(self.total, stop_at_step))
        self.task.on_start(self)
        bar = tqdm(
            total=self.total, initial=self.step, desc=self.task.name, disable=not self.progress, dynamic_ncols=True
        )
        tick, tick_step = time.perf_counter(), self.step
        try:
            for batch in self.task.batches(self) if self.step < self.end else ():
                lr = self.scheduler.get_last_lr()[0]
                stats = self.train_step(batch)
                self.step += 1
                bar.update(1)
                if self.step % self.train_cfg.log_every == 0 or self.step == self.end:
                    now = time.perf_counter()
                    row = self._log(stats, lr, (now - tick) / max(1, self.step - tick_step))
                    tick, tick_step = now, self.step
                    bar.set_postfix(loss=f"{row['loss']:.3f}")
                self.task.after_step(self)
                if self.step % self.train_cfg.checkpoint_every == 0 or self.epoch_end or self.step == self.end:
                    self.save_checkpoint()
                if self.step >= self.end:
                    break
        finally:
            bar.close()
        self.task.on_end(self, self.step >= self.total)

    def train_step(self, batch: Any) -> dict[str, Tensor]:
        """One optimizer step: the task's forward and backward, NaN stop, clipping, optimizer, schedule."""
        stats = self.task.step(batch, self)
        finite = torch.isfinite(stats["loss"].detach()).float()
        if self.info.distributed:
            dist.all_reduce(finite, op=dist.ReduceOp.MIN)
        if not bool(finite):
            raise TrainingDiverged(f"loss is {float(stats['loss'])} at step {self.step + 1}; {self.last_good()}")
        clip = self.optim_cfg.grad_clip
        if clip is not None:
            self.scaler.unscale_(self.optimizer)
            stats["grad_norm"] = torch.nn.utils.clip_grad_norm_(self.params, clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        return stats

    def _log(self, stats: dict[str, Tensor], lr: float, sec_per_step: float) -> dict[str, float]:
        """Log the step's scalars (mean over ranks) with lr and throughput; keep them in ``history``."""
        names = sorted(stats)
        values = torch.stack(
            [torch.as_tensor(stats[n], dtype=torch.float32, device=self.info.device).detach() for n in names]
        )
        if self.info.distributed:
            dist.all_reduce(values)
            values = values / self.info.world_size
        row = dict(zip(names, values.tolist()))
        row.update(lr=lr, sec_per_step=sec_per_step, samples_per_s=self.train_cfg.batch_size / max(sec_per_step, 1e-9))
        row["train_seconds"] = self.train_seconds
        self.task.log_row(row, self)
        self.history.append({"step": self.step, **row})
        self.logger.log(self.step, **row)
        return row

    def last_good(self) -> str:
        """The stop message's second half: where the last good checkpoint is and what to try."""
        where = f"the last good checkpoint is {self.checkpoint}" if self.checkpoint else "no checkpoint was written yet"
        return f"stopped, {where} (lower optim.lr, add optim.warmup_steps, or use train.amp: bf16 instead of fp16)"

    def state(self) -> dict:
        """Everything a resume needs, with every rank's RNG state (collective: call on every rank)."""
        rng = [get_rng_state()]
        if self.info.distributed:
            rng = [None] * self.info.world_size
            dist.all_gather_object(rng, get_rng_state())
        return {
            "step": self.step,
            "config": self.config.model_dump(mode="json"),
            "world_size": self.info.world_size,
            "model": self.task.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": rng,
            "train_seconds": self.train_seconds,
            **self.task.checkpoint_state(self),
        }

    def save_checkpoint(self) -> None:
        """Stop on a non-finite model (every rank), else write the checkpoint atomically and prune old ones."""
        bad = invalid_tensors(self.task.model.state_dict())
        flag = torch.tensor(0.0 if bad else 1.0, device=self.info.device)
        if self.info.distributed:
            dist.all_reduce(flag, op=dist.ReduceOp.MIN)
        if not bool(flag):
            raise TrainingDiverged(
                f"non-finite values in {', '.join(bad[:3]) or 'another rank'} at step {self.step}; {self.last_good()}"
            )
        state = self.state()
        folder = self.run_dir / CHECKPOINT_DIR
        if self.main:
            atomic_save(state, folder / checkpoint_name(self.step))
            prune_checkpoints(folder, self.train_cfg.keep_checkpoints)
        _barrier(self.info)
        self.checkpoint = folder / checkpoint_name(self.step)

    def _resume(self) -> None:
        """Load the newest good checkpoint: rank 0 picks it (setting broken ones aside), the others follow."""
        folder = self.run_dir / CHECKPOINT_DIR
        found = load_latest_good(folder, self.info.device) if self.main else None
        _barrier(self.info)
        if not self.main:
            last = latest_checkpoint(folder)
            found = (last, load_checkpoint(last, self.info.device)) if last is not None else None
        if found is None:
            return
        path, state = found
        rng = state["rng"] if isinstance(state["rng"], list) else [state["rng"]] * self.info.world_size
        if len(rng) != self.info.world_size:
            raise SeglocError(f"{path}: saved by {len(rng)} process(es), resumed with {self.info.world_size}")
        self.task.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        set_rng_state(rng[self.info.rank])
        self.step = int(state["step"])
        self.seconds_before = float(state.get("train_seconds", 0.0))
        self.task.load_checkpoint_state(state, self)
        self.checkpoint = self.resumed_from = path
        self.logger.truncate_after(self.step)
        log.info("resumed from %s at step %d", path, self.step)


def _optimizer(groups: list[dict], lr: float, cfg: Any) -> torch.optim.Optimizer:
    """SGD with momentum or AdamW (``optim.name``), fused into one kernel where this torch supports it
    (several times faster on CPU than the per-tensor loop), else the default implementation."""
    if cfg.name == "adamw":
        make, kwargs = torch.optim.AdamW, dict(lr=lr, weight_decay=cfg.weight_decay)
    else:
        make = torch.optim.SGD
        kwargs = dict(lr=lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=cfg.nesterov)
    try:
        return make(groups, fused=True, **kwargs)
    except (RuntimeError, TypeError):
        return make(groups, **kwargs)


def _wrap_ddp(model: torch.nn.Module, device: torch.device, sync_buffers: bool) -> DistributedDataParallel:
    ids = [device.index] if device.type == "cuda" else None
    if sync_buffers:
        return DistributedDataParallel(model, device_ids=ids)
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel.__init__).parameters:
        return DistributedDataParallel(model, device_ids=ids, forward_sync_buffers=False)
    return DistributedDataParallel(model, device_ids=ids, broadcast_buffers=False)


def _barrier(info: DistInfo) -> None:
    if info.distributed:
        dist.barrier()


def launch(
    config: Config,
    run_dir: Path | str,
    make_task: Callable[[DistInfo], Task],
    resume: bool = False,
    overwrite: bool = False,
    stop_at_step: int | None = None,
    progress: bool = True,
) -> Engine:
    """Build the task (its data checked before ``run_dir`` is touched), lock and prepare the run folder,
    save the config (refusing a ``resume`` with another one), train, and return the finished engine."""
    train_cfg = config.train  # type: ignore[attr-defined]
    owns_group = not dist.is_initialized()
    info = init_distributed(train_cfg.device)
    try:
        if train_cfg.threads:
            torch.set_num_threads(train_cfg.threads)
        seed_everything(train_cfg.seed)  # the same model on every rank
        task = make_task(info)
        seed_everything(train_cfg.seed + info.rank)
        run_dir = Path(run_dir)
        main = info.rank == 0
        with open_run_dir(run_dir, resume, overwrite) if main else nullcontext(run_dir):
            if main:
                if resume:
                    check_resumed_config(run_dir, config.model_dump(mode="json"))
                save_config(config, run_dir / CONFIG_FILE)
            _barrier(info)
            logger = RunLogger(run_dir, tensorboard=train_cfg.tensorboard, enabled=main)
            try:
                engine = Engine(task, config, run_dir, info, logger, progress)
                engine.run(resume, stop_at_step)
            finally:
                logger.close()
        return engine
    finally:
        if owns_group and dist.is_initialized():
            dist.destroy_process_group()
