"""Fine-tuning loop: SGD + warm-up/step schedule, AMP on GPU, DDP, atomic checkpoints, exact resume.

A checkpoint holds model, optimizer, scheduler, AMP scaler, every rank's RNG state, and the
(epoch, position) reached, so a resumed run takes exactly the steps the uninterrupted run would
have taken: the sampler permutes by (seed, epoch), augmentation is seeded per sample, and the
loader draws its worker seeds from its own generator, never from the global RNG. With a val set,
the model is scored on it every ``eval.val_every`` epochs (bbox AP, logged as ``val/*``) and the
best one kept as ``model_best.pt``; that evaluation leaves every RNG as it found it. At the end the
final model is saved and evaluated on the test splits present (``eval/metrics.json``).
"""
from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, Sampler
from tqdm import tqdm

from segloc.config import save_config
from segloc.data import CocoDataset, find_pidray_splits, load_annotations, load_pidray
from segloc.data.coco import run_image_check
from segloc.detection.builders import build_detector
from segloc.detection.config import DataConfig, FinetuneConfig, LabelSource
from segloc.detection.data import CategoryMap, DetectionDataset, collate
from segloc.detection.evaluate import EVAL_DIR, evaluate_detector, pidray_test_splits, score_split
from segloc.detection.inference import Detector, detector_state
from segloc.detection.init import initialize_backbone, write_init_report
from segloc.detection.transforms import training_transforms
from segloc.engine import (DistInfo, RunLogger, atomic_save, check_resumed_config, get_rng_state, init_distributed,
                           is_main, latest_checkpoint, load_checkpoint, load_latest_good, multistep_with_warmup,
                           open_run_dir, prune_checkpoints, seed_everything, set_rng_state)
from segloc.engine.runfiles import BEST_MODEL, CHECKPOINT_DIR, FINAL_MODEL
from segloc.errors import DatasetError, SeglocError

log = logging.getLogger("segloc")
CONFIG_FILE = "config.yaml"


class SkipSampler(Sampler[int]):
    """Yield a sampler's indices after the first ``skip`` (to resume in the middle of an epoch)."""

    def __init__(self, sampler: Sampler[int], skip: int) -> None:
        self.sampler = sampler
        self.skip = skip

    def __iter__(self) -> Iterator[int]:
        return itertools.islice(iter(self.sampler), self.skip, None)

    def __len__(self) -> int:
        return max(0, len(self.sampler) - self.skip)


def load_source(source: LabelSource, skip_bad: bool) -> CocoDataset:
    """A labelled set of the config, in whichever format it is (every image decoded with ``skip_bad``)."""
    return load_annotations(source.labels, source.images, source.classes, skip_bad=skip_bad,
                            check_images=run_image_check(skip_bad))


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


def _rng_states() -> list[dict]:
    state = get_rng_state()
    if not dist.is_initialized():
        return [state]
    states: list = [None] * dist.get_world_size()
    dist.all_gather_object(states, state)
    return states


class Trainer:
    """One fine-tuning run: :meth:`train` trains and checkpoints, :meth:`finish` saves and evaluates."""

    def __init__(self, cfg: FinetuneConfig, run_dir: Path, dist_info: DistInfo, progress: bool = True) -> None:
        self.cfg, self.run_dir, self.dist, self.progress = cfg, run_dir, dist_info, progress
        tc = cfg.train
        seed_everything(tc.seed + self.dist.rank)
        train = training_split(cfg.data)
        self.categories = CategoryMap.from_dataset(train)
        self.masks = train.has_masks if cfg.model.masks is None else cfg.model.masks
        if self.masks and not train.has_masks:
            raise DatasetError(f"{train.json_path}: model.masks is true but the training data has no masks")
        self.model = build_detector(cfg.model, self.categories.num_classes, self.masks)
        self.init = initialize_backbone(self.model.backbone, cfg.init, name=cfg.init_name)
        self.model.to(self.dist.device)
        self.cuda = self.dist.device.type == "cuda"
        self.net = self.model
        if self.dist.distributed:
            self.net = DistributedDataParallel(self.model, device_ids=[self.dist.local_rank] if self.cuda else None)
        transforms = training_transforms(cfg.model.image_size, cfg.data.flip)
        self.dataset = DetectionDataset(train, self.categories, transforms, self.masks, seed=tc.seed,
                                        max_images=cfg.data.max_train_images)
        self.sampler = DistributedSampler(self.dataset, self.dist.world_size, self.dist.rank, shuffle=True,
                                          seed=tc.seed)
        self.iters_per_epoch = math.ceil(len(self.sampler) / tc.batch_size)
        self.total_steps = self.iters_per_epoch * tc.epochs
        lr = tc.lr * tc.batch_size * self.dist.world_size / tc.lr_batch
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.SGD(params, lr=lr, momentum=tc.momentum, weight_decay=tc.weight_decay)
        factor = multistep_with_warmup([e * self.iters_per_epoch for e in tc.lr_steps], 0.1,
                                       tc.warmup_iters, tc.warmup_ratio)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor)
        self.amp = tc.amp and self.cuda
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.epoch = self.position = self.step = 0
        self.val = validation_split(cfg.data) if cfg.eval.val_every else None
        if self.val is not None:
            self.categories.match_by_name(self.val)  # a val set with other classes fails now, not after an epoch
        self.best: dict[str, float] = {}  # {"bbox_AP", "step"} of the best validation so far

    def state(self) -> dict:
        """Checkpoint contents: a usable detector file plus everything resume needs."""
        rng = _rng_states()
        return {**detector_state(self.model, self.categories, self.masks, self.cfg.model, self.init.name),
                "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict(), "rng": rng,
                "epoch": self.epoch, "position": self.position, "step": self.step, "best": self.best}

    def save_checkpoint(self) -> None:
        state = self.state()
        if not is_main():
            return
        folder = self.run_dir / CHECKPOINT_DIR
        atomic_save(state, folder / f"step_{self.step}.pt")
        prune_checkpoints(folder, self.cfg.train.keep_checkpoints)

    def load(self, path: Path, state: dict) -> None:
        """Restore the contents ``state`` of checkpoint ``path`` written by :meth:`save_checkpoint`."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        rng = state["rng"]
        if len(rng) != self.dist.world_size:
            raise SeglocError(f"{path}: saved by {len(rng)} process(es), resumed with {self.dist.world_size}")
        set_rng_state(rng[self.dist.rank])
        self.epoch, self.position, self.step = state["epoch"], state["position"], state["step"]
        self.best = dict(state.get("best", {}))
        log.info("resumed from %s at epoch %d, iteration %d (step %d)", path, self.epoch, self.position, self.step)

    def _loader(self) -> DataLoader:
        tc = self.cfg.train
        self.dataset.set_epoch(self.epoch)
        self.sampler.set_epoch(self.epoch)
        return DataLoader(self.dataset, batch_size=tc.batch_size, collate_fn=collate,
                          sampler=SkipSampler(self.sampler, self.position * tc.batch_size),
                          num_workers=self.cfg.data.workers, pin_memory=self.cuda,
                          generator=torch.Generator().manual_seed(tc.seed * 100_003 + self.epoch))

    def _train_step(self, images: list, targets: list) -> dict[str, float]:
        dev = self.dist.device
        images = [im.to(dev, non_blocking=True) for im in images]
        targets = [{k: v.to(dev, non_blocking=True) for k, v in t.items()} for t in targets]
        autocast = torch.autocast("cuda", dtype=torch.float16) if self.amp else nullcontext()
        with autocast:
            losses = self.net(images, targets)
        loss = sum(losses.values())
        if not torch.isfinite(loss):
            parts = {k: round(v.item(), 4) for k, v in losses.items()}
            raise SeglocError(f"loss is {loss.item()} at step {self.step} ({parts})")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        clip = self.cfg.train.grad_clip
        grad_norm = torch.nn.utils.clip_grad_norm_(self.optimizer.param_groups[0]["params"], clip if clip else math.inf)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return {"loss": loss.item(), **{k: v.item() for k, v in losses.items()}, "grad_norm": float(grad_norm)}

    def train(self, logger: RunLogger, stop_at_step: int | None = None) -> bool:
        """Train to the end (True) or until ``stop_at_step`` (False), checkpointing on the way."""
        tc = self.cfg.train
        bar = tqdm(total=self.total_steps, initial=self.step, desc="finetune",
                   disable=not (self.progress and is_main()))
        tick = time.perf_counter()
        while self.epoch < tc.epochs:
            for images, targets in self._loader():
                scalars = self._train_step(images, targets)
                self.step += 1
                self.position += 1
                if self.position == self.iters_per_epoch:
                    self.epoch, self.position = self.epoch + 1, 0
                bar.update(1)
                bar.set_postfix(loss=f"{scalars['loss']:.3f}", epoch=self.epoch)
                if self.step % tc.log_every == 0 or self.step == self.total_steps:
                    now = time.perf_counter()
                    logger.log(self.step, lr=self.scheduler.get_last_lr()[0], sec_per_iter=(now - tick) / tc.log_every,
                               **scalars)
                    tick = now
                if self.position == 0 and self.val is not None and self.epoch % self.cfg.eval.val_every == 0:
                    self.validate(logger)
                stopping = stop_at_step is not None and self.step >= stop_at_step
                if self.step % tc.checkpoint_every == 0 or self.position == 0 or stopping:
                    self.save_checkpoint()
                if stopping:
                    bar.close()
                    return self.step == self.total_steps
        bar.close()
        return True

    def detector(self) -> Detector:
        """The model being trained, as a detector in eval mode (switch back with ``model.train()``)."""
        return Detector(self.model.eval(), self.categories, self.masks, self.cfg.model, self.init.name,
                        self.dist.device)

    def validate(self, logger: RunLogger) -> None:
        """Score the val set (main process), log ``val/bbox_AP`` and ``val/bbox_AP50``, keep the best model;
        every RNG is restored afterwards, so a run with validation trains exactly like one without."""
        if is_main():
            rng = get_rng_state()
            _, scores = score_split(self.detector(), self.val, self.cfg.eval.batch_size, progress=False)
            set_rng_state(rng)
            self.model.train()
            ap = scores["bbox"].metrics["AP"]
            logger.log(self.step, **{"val/bbox_AP": ap, "val/bbox_AP50": scores["bbox"].metrics["AP50"]})
            if not self.best or ap > self.best["bbox_AP"]:
                self.best = {"bbox_AP": ap, "step": self.step}
                atomic_save(detector_state(self.model, self.categories, self.masks, self.cfg.model, self.init.name),
                            self.run_dir / BEST_MODEL)
            log.info("epoch %d: val bbox AP %.3f (best %.3f at step %d)", self.epoch, ap, self.best["bbox_AP"],
                     self.best["step"])
        if self.dist.distributed:
            dist.barrier()

    def finish(self) -> dict | None:
        """Save the final model and evaluate it on the test splits present (main process)."""
        if not is_main():
            return None
        atomic_save(detector_state(self.model, self.categories, self.masks, self.cfg.model, self.init.name),
                    self.run_dir / FINAL_MODEL)
        tests = test_splits(self.cfg)
        if not tests:
            return None
        return evaluate_detector(self.detector(), tests, self.run_dir / EVAL_DIR, self.cfg.eval.batch_size)


def finetune(cfg: FinetuneConfig, out: Path | str, resume: bool = False, overwrite: bool = False,
             stop_at_step: int | None = None, progress: bool = True) -> Path:
    """Fine-tune a detector into run folder ``out``; returns the folder (metrics in ``eval/metrics.json``).

    Data and init weights are loaded before the run folder is touched; the folder is locked for the
    run (``engine.open_run_dir``). ``resume`` continues from the newest good checkpoint with the
    saved configuration; ``stop_at_step`` stops early after checkpointing (a time-limited job
    resumes later with ``resume``).
    """
    out = Path(out)
    dist_info = init_distributed(cfg.train.device)
    trainer = Trainer(cfg, out, dist_info, progress)
    with open_run_dir(out, resume, overwrite) if is_main() else nullcontext(out):
        if is_main():
            if resume:
                check_resumed_config(out, cfg.model_dump(mode="json"))
            save_config(cfg, out / CONFIG_FILE)
            write_init_report(trainer.init, out / "init_report.json")
        found = load_latest_good(out / CHECKPOINT_DIR, dist_info.device) if resume and is_main() else None
        if dist_info.distributed:
            dist.barrier()
        if resume and not is_main():
            last = latest_checkpoint(out / CHECKPOINT_DIR)
            found = (last, load_checkpoint(last, map_location=dist_info.device)) if last is not None else None
        logger = RunLogger(out, enabled=is_main())
        try:
            if found is not None:
                trainer.load(*found)
                logger.truncate_after(trainer.step)
            log.info("fine-tuning %s (%s) for %d steps, %d per epoch, init %s", cfg.model.kind, cfg.model.arch,
                     trainer.total_steps, trainer.iters_per_epoch, trainer.init.name)
            if trainer.train(logger, stop_at_step):
                trainer.finish()
        finally:
            logger.close()
    return out
