"""Detector fine-tuning as an engine task (``segloc.engine.loop``): the detector, its data and its step.

Resume is exact (the engine restores every state and RNG): the sampler permutes by (seed, epoch), the
batches are cut from that order (scans that pad to one shape together, ``segloc.detection.batching``),
augmentation is seeded per sample, and the loader draws its worker seeds from its own generator,
never from the global RNG; a checkpoint also records the (epoch, position) reached. With a val set,
the model is scored on it every ``eval.val_every`` epochs (bbox AP, logged as ``val/*``) and the
best one kept as ``model_best.pt``; that evaluation leaves every RNG as it found it. At the end the
final model is saved and evaluated on the test splits present (``eval/metrics.json``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.distributed as dist
from torch import Tensor
from torch.utils.data import DataLoader, DistributedSampler

from segloc.data import CocoDataset, find_pidray_splits, load_annotations, load_pidray
from segloc.data.coco import run_image_check
from segloc.detection.batching import grouped_batches, padded_shape
from segloc.detection.builders import build_detector
from segloc.detection.config import DataConfig, FinetuneConfig, LabelSource
from segloc.detection.data import CategoryMap, DetectionDataset, collate
from segloc.detection.evaluate import EVAL_DIR, evaluate_detector, pidray_test_splits, score_split
from segloc.detection.inference import Detector, detector_state
from segloc.detection.init import initialize_backbone, write_init_report
from segloc.detection.transforms import training_transforms
from segloc.engine import DistInfo, atomic_save, get_rng_state, set_rng_state
from segloc.engine.loop import CONFIG_FILE, Engine, Task, launch, split_batch
from segloc.engine.runfiles import BEST_MODEL, FINAL_MODEL
from segloc.errors import DatasetError, log

__all__ = ["CONFIG_FILE", "FinetuneTask", "finetune", "train_step"]


def load_source(source: LabelSource, skip_bad: bool) -> CocoDataset:
    """A labelled set of the config, in whichever format it is (every image decoded with ``skip_bad``)."""
    return load_annotations(
        source.labels, source.images, source.classes, skip_bad=skip_bad, check_images=run_image_check(skip_bad)
    )


def training_split(cfg: DataConfig) -> CocoDataset:
    """The training set: PIDray's train split or the explicit labels."""
    if cfg.root is not None:
        return load_pidray(cfg.root, ("train",), cfg.skip_bad, run_image_check(cfg.skip_bad))["train"]
    return load_source(cfg.train, cfg.skip_bad)


def validation_split(cfg: DataConfig) -> CocoDataset | None:
    """The set validated on during training: ``data.val``, else a PIDray root's val split, else none."""
    if cfg.val is not None:
        return load_source(cfg.val, cfg.skip_bad)
    if cfg.root is not None and "val" in find_pidray_splits(cfg.root):
        return load_pidray(cfg.root, ("val",), cfg.skip_bad, run_image_check(cfg.skip_bad))["val"]
    return None


def test_splits(cfg: FinetuneConfig) -> dict[str, CocoDataset]:
    """The test sets to evaluate after training (PIDray test splits present, or ``data.test``)."""
    if cfg.data.root is None:
        sets = {name: load_source(src, cfg.data.skip_bad) for name, src in cfg.data.test.items()}
    else:
        try:
            sets = pidray_test_splits(cfg.data.root, skip_bad=cfg.data.skip_bad)
        except DatasetError as exc:
            log.warning("no evaluation after training: %s", exc)
            return {}
    wanted = cfg.eval.splits
    return sets if wanted == "all" else {k: v for k, v in sets.items() if k in wanted}


def train_step(batch: tuple[list, list], engine: Engine) -> dict[str, Tensor]:
    """A detector's forward and backward on a step's (images, targets); returns the summed and the part losses."""
    dev, accum = engine.info.device, engine.train_cfg.accum_steps
    totals: dict[str, Tensor] = {}
    for a in engine.micro_batches():
        images, targets = split_batch(batch, a, accum)
        images = [im.to(dev, non_blocking=True) for im in images]
        targets = [{k: v.to(dev, non_blocking=True) for k, v in t.items()} for t in targets]
        with engine.autocast():
            losses = engine.net(images, targets)
        loss = sum(losses.values())
        engine.backward(loss)
        for name, value in {"loss": loss, **losses}.items():
            totals[name] = totals.get(name, 0) + value.detach().float() / accum
    return totals


class FinetuneTask(Task):
    """A detector on its training split; validation at epoch ends, final model and test scores at the end."""

    name = "finetune"

    def __init__(self, cfg: FinetuneConfig, info: DistInfo) -> None:
        self.cfg, self.info = cfg, info
        train = training_split(cfg.data)
        self.categories = CategoryMap.from_dataset(train)
        self.masks = train.has_masks if cfg.model.masks is None else cfg.model.masks
        if self.masks and not train.has_masks:
            raise DatasetError(f"{train.json_path}: model.masks is true but the training data has no masks")
        self.model = build_detector(cfg.model, self.categories.num_classes, self.masks)
        self.init = initialize_backbone(self.model.backbone, cfg.init, name=cfg.init_name)
        data = cfg.data
        transforms = training_transforms(
            cfg.model.image_size, data.flip, data.vflip, data.hue, data.saturation, data.density
        )
        self.dataset = DetectionDataset(
            train, self.categories, transforms, self.masks, seed=cfg.train.seed, max_images=data.max_train_images
        )
        self.sampler = DistributedSampler(self.dataset, info.world_size, info.rank, shuffle=True, seed=cfg.train.seed)
        self.per_rank = max(1, cfg.train.batch_size // info.world_size)
        divisor = self.model.transform.size_divisible
        self.shapes = [
            padded_shape(r.height, r.width, cfg.model.image_size, divisor) if data.aspect_grouping else None
            for r in self.dataset.records
        ]
        self.steps_per_epoch = math.ceil(len(self.sampler) / self.per_rank)
        self.val = validation_split(cfg.data) if cfg.eval.val_every else None
        if self.val is not None:
            self.categories.match_by_name(self.val)  # a val set with other classes fails now, not after an epoch
        self.best: dict[str, float] = {}  # {"bbox_AP", "step"} of the best validation so far

    def param_groups(self) -> list[tuple[list[torch.nn.Parameter], float]]:
        """The heads at the schedule's lr, the backbone at ``optim.backbone_lr_factor`` of it (one group at 1)."""
        return self.scaled_groups(self.model.backbone, self.cfg.optim.backbone_lr_factor)

    def detector_state(self) -> dict:
        """A usable detector file's contents (weights, categories, mask flag, config, init name)."""
        return detector_state(self.model, self.categories, self.masks, self.cfg.model, self.init.name)

    def batches(self, engine: Engine) -> Iterator[tuple[list, list]]:
        epoch, position = divmod(engine.step, self.steps_per_epoch)
        while True:
            self.dataset.set_epoch(epoch)
            self.sampler.set_epoch(epoch)
            yield from DataLoader(
                self.dataset,
                batch_sampler=grouped_batches(list(self.sampler), self.shapes, self.per_rank)[position:],
                collate_fn=collate,
                num_workers=self.cfg.data.workers,
                pin_memory=self.info.device.type == "cuda",
                generator=torch.Generator().manual_seed(self.cfg.train.seed * 100_003 + epoch),
            )
            epoch, position = epoch + 1, 0

    def step(self, batch: tuple[list, list], engine: Engine) -> dict[str, Tensor]:
        return train_step(batch, engine)

    def checkpoint_state(self, engine: Engine) -> dict:
        epoch, position = divmod(engine.step, self.steps_per_epoch)
        return {**self.detector_state(), "epoch": epoch, "position": position, "best": self.best}

    def load_checkpoint_state(self, state: dict, engine: Engine) -> None:
        self.best = dict(state.get("best", {}))

    def on_start(self, engine: Engine) -> None:
        if engine.main:
            write_init_report(self.init, engine.run_dir / "init_report.json")
        self.model.train()
        log.info(
            "fine-tuning %s (%s) for %d steps, %d per epoch, init %s",
            self.cfg.model.kind,
            self.cfg.model.arch,
            engine.total,
            self.steps_per_epoch,
            self.init.name,
        )

    def after_step(self, engine: Engine) -> None:
        every = self.cfg.eval.val_every
        if self.val is not None and engine.epoch_end and (engine.step // self.steps_per_epoch) % every == 0:
            self.validate(engine)

    def detector(self) -> Detector:
        """The model being trained, as a detector in eval mode (switch back with ``model.train()``)."""
        return Detector(
            self.model.eval(), self.categories, self.masks, self.cfg.model, self.init.name, self.info.device
        )

    def validate(self, engine: Engine) -> None:
        """Score the val set (main process), log ``val/bbox_AP`` and ``val/bbox_AP50``, keep the best model;
        every RNG is restored afterwards, so a run with validation trains exactly like one without."""
        if engine.main:
            rng = get_rng_state()
            _, scores = score_split(self.detector(), self.val, self.cfg.eval.batch_size, progress=False)
            set_rng_state(rng)
            self.model.train()
            ap = scores["bbox"].metrics["AP"]
            engine.logger.log(engine.step, **{"val/bbox_AP": ap, "val/bbox_AP50": scores["bbox"].metrics["AP50"]})
            if not self.best or ap > self.best["bbox_AP"]:
                self.best = {"bbox_AP": ap, "step": engine.step}
                atomic_save(self.detector_state(), engine.run_dir / BEST_MODEL)
            log.info(
                "epoch %d: val bbox AP %.3f (best %.3f at step %d)",
                engine.step // self.steps_per_epoch,
                ap,
                self.best["bbox_AP"],
                self.best["step"],
            )
        if self.info.distributed:
            dist.barrier()

    def on_end(self, engine: Engine, complete: bool) -> None:
        """Save the final model and evaluate it on the test splits present (main process)."""
        if not (complete and engine.main):
            return
        atomic_save(self.detector_state(), engine.run_dir / FINAL_MODEL)
        tests = test_splits(self.cfg)
        if tests:
            evaluate_detector(self.detector(), tests, engine.run_dir / EVAL_DIR, self.cfg.eval.batch_size)


def finetune(
    cfg: FinetuneConfig,
    out: Path | str,
    resume: bool = False,
    overwrite: bool = False,
    stop_at_step: int | None = None,
    progress: bool = True,
) -> Path:
    """Fine-tune a detector into run folder ``out``; returns the folder (metrics in ``eval/metrics.json``).

    Data and init weights are loaded before the run folder is touched (the engine's run-folder
    rules); ``resume`` continues from the newest good checkpoint with the saved configuration;
    ``stop_at_step`` stops early after checkpointing (a time-limited job resumes later).
    """
    engine = launch(cfg, out, lambda info: FinetuneTask(cfg, info), resume, overwrite, stop_at_step, progress)
    return engine.run_dir
