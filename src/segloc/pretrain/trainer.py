"""Pretraining as an engine task (``segloc.engine.loop``): the contrastive model, its pairs and its step.

One optimizer step on one rank:

1. momentum update of the key encoder (MoCo's order: before computing the keys);
2. keys of the rank's whole step batch (no grad), BN statistics per key group (shuffle-BN);
3. for each of ``accum_steps`` micro-batches: query forward, loss against the keys and the
   queues as they were at the start of the step, backward of ``loss / accum_steps``;
4. the keys of all ranks enter the queues; the engine steps optimizer and schedule.

BatchNorm under accumulation: every micro-batch is one BN batch, exactly like one rank of a DDP
run; accumulating ``a`` micro-batches of ``m`` on one GPU computes the same step (same losses,
gradients, queues) as ``a`` GPUs with ``m`` each. The queues and the key encoder change once per
optimizer step, never between micro-batches.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset
from tqdm import tqdm

from segloc.engine.distributed import DistInfo
from segloc.engine.loop import Engine, Task, TrainingDiverged, launch
from segloc.errors import ConfigError, log
from segloc.models import convert_to_syncbn
from segloc.pretrain.builder import COLLAPSED_STD, ContrastiveModel, build_model, chance_loss
from segloc.pretrain.config import PretrainConfig
from segloc.pretrain.data import StepBatchSampler, build_pairs, make_loader
from segloc.pretrain.shuffle import trim_padding
from segloc.synthesis.dataset import white_value

__all__ = ["PretrainResult", "Plan", "PretrainTask", "TrainingDiverged", "pretrain", "train_step"]


@dataclass
class PretrainResult:
    """What a run did: its folder, the last step, the last checkpoint, the logged rows."""

    run_dir: Path
    step: int
    checkpoint: Path | None
    history: list[dict[str, float]] = field(default_factory=list)


@dataclass
class Plan:
    """Key-side arithmetic of a run: key groups per rank step and whether keys are shuffled."""

    key_groups: int
    shuffle: bool

    @classmethod
    def of(cls, config: PretrainConfig, world: int) -> Plan:
        """Check the key groups fit the per-rank batch of ``world`` ranks."""
        train, contrast = config.train, config.contrast
        per_rank = train.batch_size // world
        shuffle = contrast.key_bn == "shuffle"
        groups = train.accum_steps * (contrast.shuffle_groups if shuffle else 1)
        if shuffle and world * groups < 2:
            raise ConfigError(
                "shuffle-BN on one process needs at least two key groups: set "
                "contrast.shuffle_groups to 2 or more (or accumulate, or use several ranks)"
            )
        if groups > per_rank:
            raise ConfigError(f"{groups} key groups do not fit a per-rank batch of {per_rank}")
        return cls(groups, shuffle)


def step_generator(seed: int, step: int) -> torch.Generator:
    """The generator of step ``step``'s key shuffle: same on every rank and after a resume."""
    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, step]).generate_state(1)[0]))


def _to(view: dict, device: torch.device, channels_last: bool) -> dict:
    out = {k: v.to(device, non_blocking=True) for k, v in view.items() if k != "mask"}
    if channels_last:
        out["image"] = out["image"].contiguous(memory_format=torch.channels_last)
    return out


def train_step(
    model: ContrastiveModel, batch: dict, engine: Engine, plan: Plan, config: PretrainConfig
) -> dict[str, Tensor]:
    """One step's forward and backward (module docstring); returns per-level losses/accuracies (this rank)."""
    device, cl = engine.info.device, config.train.channels_last
    query, key = _to(batch["view1"], device, cl), _to(batch["view2"], device, cl)
    generator = step_generator(config.train.seed, engine.step) if plan.shuffle else None
    model.momentum_update()
    with engine.autocast():
        keys = model.encode_keys(key["image"], key["box"], plan.key_groups, generator)
    accum = config.train.accum_steps
    micro = engine.per_rank // accum
    totals: dict[str, Tensor] = {}
    for a in engine.micro_batches():
        part = slice(a * micro, (a + 1) * micro)
        images = trim_padding(query["image"][part], query["size"][part])
        with engine.autocast():
            loss, stats = engine.net(
                images, query["box"][part], query["label"][part], {level: k[part] for level, k in keys.items()}
            )
        engine.backward(loss)
        for name, value in {"loss": loss.detach(), **stats}.items():
            totals[name] = totals.get(name, 0) + value.float() / accum
    model.enqueue(keys, key["label"])
    return totals


class PretrainTask(Task):
    """The contrastive model on its pair data; queues initialised from keys before the first step."""

    name = "pretrain"
    sync_buffers = False  # the queues are large and equal on every rank; BN statistics stay per rank

    def __init__(self, config: PretrainConfig, info: DistInfo, dataset: Dataset, classes: list[int]) -> None:
        self.config, self.info, self.dataset = config, info, dataset
        self.plan = Plan.of(config, info.world_size)
        self.steps_per_epoch = len(dataset) // config.train.batch_size
        if self.steps_per_epoch == 0:
            raise ConfigError(
                f"the dataset has {len(dataset)} pairs, fewer than one batch of {config.train.batch_size}"
            )
        model = build_model(config, classes, white_value())
        if config.contrast.key_bn == "sync" and info.world_size > 1:
            if info.device.type != "cuda":
                raise ConfigError("contrast.key_bn: sync needs GPUs (SyncBatchNorm); use shuffle on CPU")
            model.encoder_q, model.encoder_k = convert_to_syncbn(model.encoder_q), convert_to_syncbn(model.encoder_k)
        if config.optim.head_lr_factor == 0:  # the head stays at its init: no weight gradients for it
            model.encoder_q.head.requires_grad_(False)
        self.model = model
        self.collapse_reported = False

    def parameters(self) -> list[torch.nn.Parameter]:
        return [p for p in self.model.encoder_q.parameters() if p.requires_grad]

    def param_groups(self) -> list[tuple[list[torch.nn.Parameter], float]]:
        """The backbone at the schedule's lr, the embedding head at ``optim.head_lr_factor`` of it."""
        return self.scaled_groups(self.model.encoder_q.head, self.config.optim.head_lr_factor)

    def batches(self, engine: Engine) -> Iterable[dict]:
        sampler = StepBatchSampler(
            len(self.dataset),
            self.config.train.batch_size,
            self.config.train.seed,
            engine.step,
            engine.end,
            self.info.rank,
            self.info.world_size,
        )
        return make_loader(self.dataset, sampler, self.config.data.workers, pin_memory=self.info.device.type == "cuda")

    def step(self, batch: dict, engine: Engine) -> dict[str, Tensor]:
        return train_step(self.model, batch, engine, self.plan, self.config)

    def on_start(self, engine: Engine) -> None:
        if engine.resumed_from is None and self.config.contrast.queue_init == "keys":
            used = initialise_queues(self.model, self.dataset, self.plan, self.config, engine)
            log.info(
                "queues initialised with keys from %d steps of pairs (%.0f%% filled)",
                used,
                100 * self.model.queues.fill(),
            )
        self.model.train()
        cfg = self.config
        log.info(
            "pretraining %s (%s) from step %d to %d of %d: %d pairs per step on %d process(es), lr %.4g",
            cfg.method,
            cfg.backbone.arch,
            engine.step,
            engine.end,
            engine.total,
            cfg.train.batch_size,
            self.info.world_size,
            engine.lr,
        )

    def log_row(self, row: dict[str, float], engine: Engine) -> None:
        levels = [n[4:] for n in row if n.startswith("acc_")]
        row.update(
            acc=sum(row[f"acc_{n}"] for n in levels) / len(levels),
            rank=sum(row[f"rank_{n}"] for n in levels) / len(levels),
            std=sum(row[f"std_{n}"] for n in levels) / len(levels),
            queue_fill=self.model.queues.fill(),
        )
        if row["std"] < COLLAPSED_STD and not self.collapse_reported:
            self.collapse_reported = True
            log.warning(
                "step %d: the embedding head has collapsed (std %.4f < %.2f): it maps every box to nearly one "
                "vector, so the contrastive accuracy no longer measures learning; a lower optim.lr or "
                "optim.head_lr_factor delays it (what was measured: docs/real-scans.md)",
                engine.step,
                row["std"],
                COLLAPSED_STD,
            )

    def on_end(self, engine: Engine, complete: bool) -> None:
        if engine.history:
            last = engine.history[-1]
            log.info(
                "step %d: loss %.4f (chance %.2f), contrastive accuracy %.3f, positive rank %.3f (chance 0.5), "
                "embedding std %.3f; checkpoint %s",
                engine.step,
                last["loss"],
                chance_loss(self.config),
                last["acc"],
                last["rank"],
                last["std"],
                engine.checkpoint,
            )


@torch.no_grad()
def initialise_queues(
    model: ContrastiveModel, dataset: Dataset, plan: Plan, config: PretrainConfig, engine: Engine
) -> int:
    """SegLoc's dictionary initialisation: fill the queues, before step 1, with the keys the
    untrained key encoder gives on the first pairs (epoch 0 order). Returns the steps used."""
    info = engine.info
    size = config.contrast.queue_size
    limit = config.contrast.init_max_steps or 4 * math.ceil(size / config.train.batch_size) + 4
    sampler = StepBatchSampler(
        len(dataset), config.train.batch_size, config.train.seed, 0, limit, info.rank, info.world_size
    )
    used = 0
    bar = tqdm(
        make_loader(dataset, sampler, config.data.workers),
        total=limit,
        desc="queue init",
        leave=False,
        disable=not engine.progress,
    )
    for used, batch in enumerate(bar, start=1):
        key = _to(batch["view2"], info.device, config.train.channels_last)
        generator = step_generator(config.train.seed + 1, used) if plan.shuffle else None
        with engine.autocast():
            keys = model.encode_keys(key["image"], key["box"], plan.key_groups, generator)
        model.enqueue(keys, key["label"])
        bar.set_postfix(filled=f"{100 * model.queues.fill():.0f}%")
        if model.queues.is_full():
            break
    bar.close()
    if not model.queues.is_full():
        log.warning(
            "queue initialisation stopped after %d steps with the queues %.0f%% filled by keys "
            "(the rest stays random): too few pairs or a dominant class",
            used,
            100 * model.queues.fill(),
        )
    return used


def pretrain(
    config: PretrainConfig,
    run_dir: Path | str,
    resume: bool = False,
    overwrite: bool = False,
    stop_at_step: int | None = None,
    pairs: tuple[Dataset, list[int]] | None = None,
) -> PretrainResult:
    """Run (or ``resume``) contrastive pretraining into ``run_dir`` with the engine's run-folder rules.

    ``stop_at_step``: stop after that step (a later ``resume`` continues, with the same schedule).
    ``pairs``: a ``(dataset, class ids)`` to use instead of ``config.data``.
    """

    def make_task(info: DistInfo) -> PretrainTask:
        dataset, classes = pairs if pairs is not None else build_pairs(config.data, config.train.seed)
        return PretrainTask(config, info, dataset, classes)

    engine = launch(config, run_dir, make_task, resume, overwrite, stop_at_step)
    return PretrainResult(engine.run_dir, engine.step, engine.checkpoint, engine.history)
