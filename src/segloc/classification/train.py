"""CHR training on a SIXray subset as an engine task (``segloc.engine.loop``): the classifier, its data
and its step; the final model is evaluated on the test split with ``eval.enabled``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from torch import Tensor
from torch.utils.data import DataLoader

from segloc.classification.chr import CHRNet, get_variant
from segloc.classification.config import ChrConfig
from segloc.classification.data import EpochSampler, SixrayClassification, positive_weights, sample_weights
from segloc.classification.evaluate import evaluate_model, write_reports
from segloc.classification.loss import ClassBalancedLoss
from segloc.engine import DistInfo, atomic_save
from segloc.engine.loop import Engine, Task, launch, split_batch
from segloc.engine.runfiles import FINAL_MODEL
from segloc.errors import SeglocError, log


def train_step(batch: tuple[Tensor, Tensor, list], engine: Engine, criterion: ClassBalancedLoss) -> dict[str, Tensor]:
    """CHR's forward and backward on a step's (images, labels, names); returns loss, kept fraction, level losses."""
    dev, accum = engine.info.device, engine.train_cfg.accum_steps
    totals: dict[str, Tensor] = {}
    for a in engine.micro_batches():
        images, labels = (t.to(dev, non_blocking=True) for t in split_batch(batch[:2], a, accum))
        with engine.autocast():
            logits = engine.net(images)
        parts = criterion(logits, labels)
        engine.backward(parts.total)
        scalars = {
            "loss": parts.total,
            "kept_fraction": parts.kept,
            **{f"loss_level{i}": v for i, v in enumerate(parts.levels)},
        }
        for name, value in scalars.items():
            totals[name] = totals.get(name, 0) + value.detach().float() / accum
    return totals


class ChrTask(Task):
    """A CHR network with its class-balanced loss on a SIXray training split."""

    name = "chr train"

    def __init__(self, config: ChrConfig, info: DistInfo, train_set: SixrayClassification) -> None:
        self.config, self.info, self.train_set = config, info, train_set
        self.per_rank = max(1, config.train.batch_size // info.world_size)
        self.steps_per_epoch = len(train_set) // info.world_size // self.per_rank
        if self.steps_per_epoch == 0:
            raise SeglocError(
                f"{train_set.root.root}: {len(train_set)} training images are fewer than one batch "
                f"of {config.train.batch_size}; lower train.batch_size"
            )
        variant = get_variant(config.model.variant)
        self.model = CHRNet(
            config.model.arch, len(train_set.class_names), config.model.variant, weights=config.model.weights
        )
        pos_weight = positive_weights(train_set.labels) if config.data.pos_weight else None
        self.criterion = ClassBalancedLoss(
            variant.balanced, config.model.threshold, config.model.hierarchical_mask, pos_weight
        ).to(info.device)
        self.weights = sample_weights(train_set.labels) if config.data.sampler == "weighted" else None

    def batches(self, engine: Engine) -> Iterator[tuple[Tensor, Tensor, list]]:
        epoch, position = divmod(engine.step, self.steps_per_epoch)
        while True:
            sampler = EpochSampler(
                len(self.train_set),
                epoch,
                self.config.train.seed,
                self.weights,
                self.info.rank,
                self.info.world_size,
                start=position * self.per_rank,
            )
            yield from DataLoader(
                self.train_set,
                batch_size=self.per_rank,
                sampler=sampler,
                drop_last=True,
                num_workers=self.config.data.workers,
                pin_memory=self.info.device.type == "cuda",
            )
            epoch, position = epoch + 1, 0

    def step(self, batch: tuple[Tensor, Tensor, list], engine: Engine) -> dict[str, Tensor]:
        return train_step(batch, engine, self.criterion)

    def checkpoint_state(self, engine: Engine) -> dict:
        return {"class_names": self.train_set.class_names}

    def on_start(self, engine: Engine) -> None:
        self.model.train()
        cfg = self.config
        log.info(
            "training CHR (%s, %s) on SIXray%s: %d images, %d steps of %d from step %d",
            cfg.model.variant,
            cfg.model.arch,
            cfg.data.subset,
            len(self.train_set),
            engine.total,
            cfg.train.batch_size,
            engine.step,
        )

    def log_row(self, row: dict[str, float], engine: Engine) -> None:
        row["epoch"] = (engine.step - 1) // self.steps_per_epoch

    def on_end(self, engine: Engine, complete: bool) -> None:
        """Save ``model_final.pt`` (weights + config) and, with ``eval.enabled``, evaluate on the test split."""
        if not (complete and engine.main):
            return
        cfg = self.config
        atomic_save(
            {
                "model": self.model.state_dict(),
                "config": cfg.model_dump(mode="json"),
                "class_names": self.train_set.class_names,
                "step": engine.step,
            },
            engine.run_dir / FINAL_MODEL,
        )
        if cfg.eval.enabled:
            metrics = evaluate_model(self.model.eval(), cfg, self.train_set.class_names, cfg.data.root, cfg.data.subset)
            write_reports(metrics, engine.run_dir)
            log.info("test mAP %.2f%%, pointing %.2f%%", 100 * metrics["mAP"], 100 * metrics["pointing_mean"])


def train(
    config: ChrConfig, out: Path | str, resume: bool = False, overwrite: bool = False, stop_at_step: int | None = None
) -> Path:
    """Train as ``config`` says into run folder ``out`` (the engine's files and rules); returns the folder.

    Writes ``model_final.pt`` (weights + config) at the end and, with ``eval.enabled``,
    ``metrics.json`` + ``report.md``. The data is checked before the run folder is touched.
    """
    if config.data.root is None:
        raise SeglocError("no SIXray folder given: pass --data or set data.root in the config")

    def make_task(info: DistInfo) -> ChrTask:
        data = config.data
        train_set = SixrayClassification(
            data.root,
            data.subset,
            "train",
            train=True,
            size=data.image_size,
            resize=data.resize,
            seed=config.train.seed,
            skip_bad=data.skip_bad,
        )
        return ChrTask(config, info, train_set)

    return launch(config, out, make_task, resume, overwrite, stop_at_step, progress=True).run_dir


__all__ = ["ChrTask", "train", "train_step"]
