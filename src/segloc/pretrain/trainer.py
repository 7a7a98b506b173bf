"""The pretraining loop: SGD + warm-up + cosine, accumulation, AMP, DDP, logs, checkpoints, resume.

One optimizer step on one rank:

1. momentum update of the key encoder (MoCo's order: before computing the keys);
2. keys of the rank's whole step batch (no grad), BN statistics per key group (shuffle-BN);
3. for each of ``accum_steps`` micro-batches: query forward, loss against the keys and the
   queues as they were at the start of the step, backward of ``loss / accum_steps``;
4. optimizer and scheduler step; the keys of all ranks enter the queues.

BatchNorm under accumulation: every micro-batch is one BN batch, exactly like one rank of a DDP
run; accumulating ``a`` micro-batches of ``m`` on one GPU computes the same step (same losses,
gradients, queues) as ``a`` GPUs with ``m`` each. The queues and the key encoder change once per
optimizer step, never between micro-batches.
"""
from __future__ import annotations

import inspect
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset
from tqdm import tqdm

from segloc.config import save_config
from segloc.engine import (
    DistInfo,
    RunLogger,
    atomic_save,
    check_resumed_config,
    cosine_with_warmup,
    get_rng_state,
    init_distributed,
    invalid_tensors,
    latest_checkpoint,
    load_checkpoint,
    load_latest_good,
    open_run_dir,
    prune_checkpoints,
    restore_training_state,
    seed_everything,
)
from segloc.engine.rundir import CHECKPOINT_DIR
from segloc.errors import ConfigError, SeglocError, log
from segloc.models import convert_to_syncbn
from segloc.pretrain.builder import ContrastiveModel, build_model
from segloc.pretrain.config import PretrainConfig
from segloc.pretrain.data import StepBatchSampler, build_pairs, make_loader
from segloc.pretrain.shuffle import trim_padding
from segloc.synthesis.dataset import white_value

class TrainingDiverged(SeglocError):
    """The loss became NaN or infinite; the run stopped without saving the bad state."""


@dataclass
class PretrainResult:
    """What a run did: its folder, the last step, the last checkpoint, the logged rows."""

    run_dir: Path
    step: int
    checkpoint: Path | None
    history: list[dict[str, float]] = field(default_factory=list)


@dataclass
class Plan:
    """Batch arithmetic of a run: per-rank batch, micro-batch, key groups, learning rate, length."""

    world: int
    per_rank: int
    micro: int
    key_groups: int
    shuffle: bool
    lr: float
    total_steps: int

    @classmethod
    def of(cls, config: PretrainConfig, world: int, pairs: int) -> Plan:
        """Check the batch splits for ``world`` ranks and derive the plan (``pairs`` per epoch)."""
        train = config.train
        if train.batch_size % (world * train.accum_steps):
            raise ConfigError(f"train.batch_size {train.batch_size} must be divisible by world size {world} "
                              f"x train.accum_steps {train.accum_steps}")
        per_rank = train.batch_size // world
        shuffle = train.key_bn == "shuffle"
        groups = train.accum_steps * (train.shuffle_groups if shuffle else 1)
        if shuffle and world * groups < 2:
            raise ConfigError("shuffle-BN on one process needs at least two key groups: set "
                              "train.shuffle_groups to 2 or more (or accumulate, or use several ranks)")
        if groups > per_rank:
            raise ConfigError(f"{groups} key groups do not fit a per-rank batch of {per_rank}")
        steps_per_epoch = pairs // train.batch_size
        total = train.steps or max(1, int(train.epochs * steps_per_epoch))
        return cls(world, per_rank, per_rank // train.accum_steps, groups, shuffle,
                   config.optim.lr_per_256 * train.batch_size / 256, total)


def make_sgd(params: list[torch.nn.Parameter], lr: float, config: PretrainConfig) -> torch.optim.SGD:
    """SGD with momentum, fused into one kernel where this torch supports it (several times faster
    on CPU than the per-tensor loop), else the default implementation."""
    kwargs = dict(lr=lr, momentum=config.optim.momentum, weight_decay=config.optim.weight_decay,
                  nesterov=config.optim.nesterov)
    try:
        return torch.optim.SGD(params, fused=True, **kwargs)
    except (RuntimeError, TypeError):
        return torch.optim.SGD(params, **kwargs)


def step_generator(seed: int, step: int) -> torch.Generator:
    """The generator of step ``step``'s key shuffle: same on every rank and after a resume."""
    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, step]).generate_state(1)[0]))


def amp_context(config: PretrainConfig, device: torch.device):
    """autocast in bf16/fp16 on CUDA when asked; full precision on CPU."""
    if config.train.amp == "none" or device.type != "cuda":
        return nullcontext()
    dtype = torch.bfloat16 if config.train.amp == "bf16" else torch.float16
    return torch.autocast(device_type="cuda", dtype=dtype)


def _to(view: dict, device: torch.device, channels_last: bool) -> dict:
    out = {k: v.to(device, non_blocking=True) for k, v in view.items() if k != "mask"}
    if channels_last:
        out["image"] = out["image"].contiguous(memory_format=torch.channels_last)
    return out


def _all_ranks_mean(values: Tensor, world: int) -> Tensor:
    if world > 1:
        dist.all_reduce(values)
        values = values / world
    return values


def train_step(model: ContrastiveModel, wrapped: torch.nn.Module, batch: dict, optimizer: torch.optim.Optimizer,
               scheduler: torch.optim.lr_scheduler.LRScheduler, scaler: torch.amp.GradScaler,
               plan: Plan, config: PretrainConfig, step: int, device: torch.device) -> dict[str, Tensor]:
    """One optimizer step (module docstring); returns per-level losses/accuracies (this rank)."""
    cl = config.train.channels_last
    query, key = _to(batch["view1"], device, cl), _to(batch["view2"], device, cl)
    generator = step_generator(config.train.seed, step) if plan.shuffle else None
    model.momentum_update()
    with amp_context(config, device):
        keys = model.encode_keys(key["image"], key["box"], plan.key_groups, generator)
    accum = config.train.accum_steps
    totals: dict[str, Tensor] = {}
    for a in range(accum):
        part = slice(a * plan.micro, (a + 1) * plan.micro)
        images = trim_padding(query["image"][part], query["size"][part])
        sync = a == accum - 1 or not isinstance(wrapped, DistributedDataParallel)
        with (nullcontext() if sync else wrapped.no_sync()), amp_context(config, device):
            loss, stats = wrapped(images, query["box"][part], query["label"][part],
                                  {level: k[part] for level, k in keys.items()})
        scaler.scale(loss / accum).backward()
        for name, value in {"loss": loss.detach(), **stats}.items():
            totals[name] = totals.get(name, 0) + value.float() / accum
    finite = torch.isfinite(totals["loss"]).float()
    if plan.world > 1:
        dist.all_reduce(finite, op=dist.ReduceOp.MIN)
    if not bool(finite):
        raise TrainingDiverged(f"loss is {float(totals['loss'])} at step {step + 1}")
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    scheduler.step()
    model.enqueue(keys, key["label"])
    return totals


@torch.no_grad()
def initialise_queues(model: ContrastiveModel, dataset: Dataset, plan: Plan, config: PretrainConfig,
                      info: DistInfo) -> int:
    """SegLoc's dictionary initialisation: fill the queues, before step 1, with the keys the
    untrained key encoder gives on the first pairs (epoch 0 order). Returns the steps used."""
    size = config.contrast.queue_size
    limit = config.contrast.init_max_steps or 4 * math.ceil(size / config.train.batch_size) + 4
    sampler = StepBatchSampler(len(dataset), config.train.batch_size, config.train.seed, 0, limit,
                               info.rank, plan.world)
    used = 0
    bar = tqdm(make_loader(dataset, sampler, config.data.workers), total=limit, desc="queue init", leave=False,
               disable=not (info.rank == 0 and config.train.progress))
    for used, batch in enumerate(bar, start=1):
        key = _to(batch["view2"], info.device, config.train.channels_last)
        generator = step_generator(config.train.seed + 1, used) if plan.shuffle else None
        with amp_context(config, info.device):
            keys = model.encode_keys(key["image"], key["box"], plan.key_groups, generator)
        model.enqueue(keys, key["label"])
        bar.set_postfix(filled=f"{100 * model.queues.fill():.0f}%")
        if model.queues.is_full():
            break
    bar.close()
    if not model.queues.is_full():
        log.warning("queue initialisation stopped after %d steps with the queues %.0f%% filled by keys "
                    "(the rest stays random): too few pairs or a dominant class", used, 100 * model.queues.fill())
    return used


def save_checkpoint(run_dir: Path, step: int, config: PretrainConfig, model: ContrastiveModel,
                    optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler,
                    scaler: torch.amp.GradScaler, world: int) -> Path:
    """Atomically write everything a resume needs (queues included) and keep the newest few."""
    folder = run_dir / CHECKPOINT_DIR
    path = atomic_save({
        "step": step, "config": config.model_dump(mode="json"), "world_size": world,
        "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(), "rng": get_rng_state(),
    }, folder / f"step_{step:08d}.pt")
    prune_checkpoints(folder, config.train.keep_checkpoints)
    return path


def wrap_ddp(model: ContrastiveModel, device: torch.device) -> DistributedDataParallel:
    """DDP over the query side, without per-forward buffer syncs (the queues are large and equal on
    every rank; BN running statistics stay per rank, rank 0's are saved)."""
    ids = [device.index] if device.type == "cuda" else None
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel.__init__).parameters:
        return DistributedDataParallel(model, device_ids=ids, forward_sync_buffers=False)
    return DistributedDataParallel(model, device_ids=ids, broadcast_buffers=False)


def _barrier(world: int) -> None:
    if world > 1:
        dist.barrier()


def pretrain(config: PretrainConfig, run_dir: Path | str, resume: bool = False, overwrite: bool = False,
             stop_after: int | None = None, pairs: tuple[Dataset, list[int]] | None = None) -> PretrainResult:
    """Run (or ``resume``) contrastive pretraining into ``run_dir``.

    The config and the pair data are checked before the run folder is touched; the folder is
    locked for the run (``engine.open_run_dir``). ``resume`` refuses a config other than the
    run's own. ``stop_after``: stop after that many steps in this call (a later ``resume``
    continues, with the same schedule). ``pairs``: a ``(dataset, class ids)`` to use instead of
    ``config.data``.
    """
    owns_group = not dist.is_initialized()
    info = init_distributed(config.train.device)
    try:
        seed_everything(config.train.seed)
        dataset, classes = pairs if pairs is not None else build_pairs(config.data, config.train.seed)
        plan = Plan.of(config, info.world_size, len(dataset))
        run_dir = Path(run_dir)
        with open_run_dir(run_dir, resume, overwrite) if info.rank == 0 else nullcontext(run_dir):
            if info.rank == 0:
                if resume:
                    check_resumed_config(run_dir, config.model_dump(mode="json"))
                save_config(config, run_dir / "config.yaml")
            return _run(config, run_dir, info, plan, dataset, classes, resume, stop_after)
    finally:
        if owns_group and dist.is_initialized():
            dist.destroy_process_group()


def _resume_state(folder: Path, info: DistInfo, resume: bool) -> tuple[Path, dict] | None:
    """The checkpoint to resume from: rank 0 picks the newest good one (setting broken ones aside),
    then every other rank loads that same file."""
    found = load_latest_good(folder, info.device) if resume and info.rank == 0 else None
    _barrier(info.world_size)
    if resume and info.rank != 0:
        last = latest_checkpoint(folder)
        found = (last, load_checkpoint(last, info.device)) if last is not None else None
    return found


def _stop_if_not_finite(model: ContrastiveModel, world: int, step: int, checkpoint: Path | None) -> None:
    """Stop (every rank) before saving a state with NaN / inf tensors, e.g. BN statistics a finite loss hid."""
    bad = invalid_tensors(model.state_dict())
    flag = torch.tensor(0.0 if bad else 1.0, device=model.queues.keys.device)
    if world > 1:
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    if not bool(flag):
        raise TrainingDiverged(f"non-finite values in {', '.join(bad[:3]) or 'another rank'} at step {step}; "
                               f"{_last_good(checkpoint)}")


def _last_good(checkpoint: Path | None) -> str:
    where = f"the last good checkpoint is {checkpoint}" if checkpoint else "no checkpoint was written yet"
    return f"stopped, {where} (lower optim.lr_per_256, add warm-up, or use train.amp: bf16 instead of fp16)"


def _run(config: PretrainConfig, run_dir: Path, info: DistInfo, plan: Plan, dataset: Dataset, classes: list[int],
         resume: bool, stop_after: int | None) -> PretrainResult:
    main = info.rank == 0
    model = build_model(config, classes, white_value()).to(info.device)
    if config.train.key_bn == "sync" and plan.world > 1:
        if info.device.type != "cuda":
            raise ConfigError("train.key_bn: sync needs GPUs (SyncBatchNorm); use shuffle on CPU")
        model.encoder_q, model.encoder_k = convert_to_syncbn(model.encoder_q), convert_to_syncbn(model.encoder_k)
    if config.train.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_sgd([p for p in model.encoder_q.parameters() if p.requires_grad], plan.lr, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, cosine_with_warmup(plan.total_steps, config.optim.warmup_steps))
    scaler = torch.amp.GradScaler(info.device.type,
                                  enabled=config.train.amp == "fp16" and info.device.type == "cuda")

    logger = RunLogger(run_dir, tensorboard=config.train.tensorboard, enabled=main)
    try:
        return _train(config, run_dir, info, plan, model, dataset, optimizer, scheduler, scaler, logger, resume,
                      stop_after)
    finally:
        logger.close()


def _train(config: PretrainConfig, run_dir: Path, info: DistInfo, plan: Plan, model: ContrastiveModel,
           dataset: Dataset, optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler,
           scaler: torch.amp.GradScaler, logger: RunLogger, resume: bool, stop_after: int | None) -> PretrainResult:
    """Restore or initialise the queues, then train to the end (or ``stop_after`` steps), logging to the run."""
    main = info.rank == 0
    found = _resume_state(run_dir / CHECKPOINT_DIR, info, resume)
    last = found[0] if found is not None else None
    step = 0
    if found is not None:
        restore_training_state(found[1], model, optimizer, scheduler, scaler)
        step = int(found[1]["step"])
        log.info("resumed %s at step %d", last, step)
    elif config.contrast.queue_init == "keys":
        used = initialise_queues(model, dataset, plan, config, info)
        log.info("queues initialised with keys from %d steps of pairs (%.0f%% filled)", used, 100 * model.queues.fill())
    model.train()
    wrapped = model
    if plan.world > 1:
        wrapped = wrap_ddp(model, info.device)

    end = plan.total_steps if stop_after is None else min(plan.total_steps, step + stop_after)
    if resume:
        logger.truncate_after(step)
    log.info("pretraining %s (%s) from step %d to %d of %d: %d pairs per step on %d process(es), lr %.4g",
             config.method, config.backbone.arch, step, end, plan.total_steps, config.train.batch_size, plan.world,
             plan.lr)
    sampler = StepBatchSampler(len(dataset), config.train.batch_size, config.train.seed, step, end,
                               info.rank, plan.world)
    loader = make_loader(dataset, sampler, config.data.workers, pin_memory=info.device.type == "cuda")
    bar = tqdm(total=end, initial=step, desc="pretrain", disable=not (main and config.train.progress))
    history: list[dict[str, float]] = []
    checkpoint = last
    tick, tick_step = time.perf_counter(), step
    try:
        for batch in loader:
            lr = scheduler.get_last_lr()[0]
            try:
                stats = train_step(model, wrapped, batch, optimizer, scheduler, scaler, plan, config, step, info.device)
            except TrainingDiverged as exc:
                raise TrainingDiverged(f"{exc}; {_last_good(checkpoint)}") from None
            step += 1
            bar.update(1)
            if step % config.train.log_every == 0 or step == end:
                names = sorted(stats)
                values = _all_ranks_mean(torch.stack([stats[n] for n in names]), plan.world).tolist()
                row = dict(zip(names, values))
                levels = [n for n in names if n.startswith("acc_")]
                now = time.perf_counter()
                row.update(acc=sum(row[n] for n in levels) / len(levels), lr=lr, queue_fill=model.queues.fill(),
                           pairs_per_s=(step - tick_step) * config.train.batch_size / max(now - tick, 1e-9))
                tick, tick_step = now, step
                history.append({"step": step, **row})
                logger.log(step, **row)
                bar.set_postfix(loss=f"{row['loss']:.3f}", acc=f"{row['acc']:.2f}")
            if step % config.train.ckpt_every == 0 or step == end:
                _stop_if_not_finite(model, plan.world, step, checkpoint)
                if main:
                    save_checkpoint(run_dir, step, config, model, optimizer, scheduler, scaler, plan.world)
                _barrier(plan.world)
                checkpoint = run_dir / CHECKPOINT_DIR / f"step_{step:08d}.pt"
    finally:
        bar.close()
    if history:
        log.info("step %d: loss %.4f, contrastive accuracy %.3f; checkpoint %s", step, history[-1]["loss"],
                 history[-1]["acc"], checkpoint)
    return PretrainResult(run_dir, step, checkpoint, history)
