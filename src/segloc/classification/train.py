"""Train a CHR classifier on a SIXray subset: SGD, AMP on CUDA, DDP under torchrun, atomic
checkpoints and exact resume; evaluates on the test split at the end."""
from __future__ import annotations

import logging
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from segloc.classification.chr import CHRNet, get_variant
from segloc.classification.config import ChrConfig
from segloc.classification.data import (
    EpochSampler,
    SixrayClassification,
    positive_weights,
    sample_weights,
)
from segloc.classification.evaluate import evaluate_model, write_reports
from segloc.classification.loss import ClassBalancedLoss
from segloc.config import save_config
from segloc.engine import (
    DistInfo,
    RunLogger,
    atomic_save,
    get_rng_state,
    init_distributed,
    is_main,
    latest_checkpoint,
    load_checkpoint,
    load_latest_good,
    multistep_with_warmup,
    open_run_dir,
    prune_checkpoints,
    restore_training_state,
    seed_everything,
)
from segloc.engine.runfiles import CHECKPOINT_DIR, FINAL_MODEL
from segloc.errors import SeglocError

log = logging.getLogger("segloc")


def amp_dtype(device: torch.device, enabled: bool) -> torch.dtype | None:
    """bf16 on CUDA GPUs that support it, else fp16 on CUDA; None (full precision) on CPU."""
    if not enabled or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def train(config: ChrConfig, out: Path | str, resume: bool = False, overwrite: bool = False) -> Path:
    """Train as ``config`` says into run folder ``out``; returns the folder.

    Writes ``config.yaml``, ``checkpoints/step_N.pt`` every ``run.checkpoint_every`` steps and at
    the end, ``model_final.pt`` (weights + config), ``metrics.csv``/TensorBoard logs and, with
    ``run.evaluate``, ``metrics.json`` + ``report.md``. The data is checked before the run folder
    is touched, and the folder is locked for the run. ``resume`` continues from the newest good
    checkpoint exactly (model, optimizer, schedule, scaler, RNG, position within the epoch).
    """
    if config.data.root is None:
        raise SeglocError("no SIXray folder given: pass --data or set data.root in the config")
    info = init_distributed(config.run.device)
    run_dir = Path(out)
    train_set = SixrayClassification(config.data.root, config.data.subset, "train", train=True,
                                     size=config.data.image_size, resize=config.data.resize, seed=config.run.seed,
                                     skip_bad=config.data.skip_bad)
    steps_per_epoch = len(train_set) // info.world_size // config.optim.batch_size
    if steps_per_epoch == 0:
        raise SeglocError(f"{train_set.root.root}: {len(train_set)} training images are fewer than one batch "
                          f"of {config.optim.batch_size} per process; lower optim.batch_size")
    with open_run_dir(run_dir, resume, overwrite) if is_main() else nullcontext(run_dir):
        if is_main():
            save_config(config, run_dir / "config.yaml")
        _barrier()
        return _train(config, run_dir, info, train_set, steps_per_epoch, resume)


def _train(config: ChrConfig, run_dir: Path, info: DistInfo, train_set: SixrayClassification, steps_per_epoch: int,
           resume: bool) -> Path:
    if config.run.threads:
        torch.set_num_threads(config.run.threads)
    seed_everything(config.run.seed)
    total = config.optim.epochs * steps_per_epoch
    if config.optim.max_steps is not None:
        total = min(total, config.optim.max_steps)

    variant = get_variant(config.model.variant)
    model = CHRNet(config.model.backbone, len(train_set.class_names), config.model.variant,
                   weights=config.model.weights).to(info.device)
    pos_weight = positive_weights(train_set.labels) if config.data.pos_weight else None
    criterion = ClassBalancedLoss(variant.balanced, config.model.threshold, config.model.hierarchical_mask,
                                  pos_weight).to(info.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.optim.lr, momentum=config.optim.momentum,
                                weight_decay=config.optim.weight_decay)
    milestones = [m * steps_per_epoch for m in config.optim.milestones]
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, multistep_with_warmup(milestones, config.optim.gamma, config.optim.warmup_steps))
    dtype = amp_dtype(info.device, config.run.amp)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)

    logger = RunLogger(run_dir, enabled=is_main())
    step = 0
    ckpt_dir = run_dir / CHECKPOINT_DIR
    found = load_latest_good(ckpt_dir, info.device) if resume and is_main() else None
    _barrier()
    if resume and not is_main():
        last = latest_checkpoint(ckpt_dir)
        found = (last, load_checkpoint(last, info.device)) if last is not None else None
    latest = found[0] if found is not None else None
    if found is not None:
        restore_training_state(found[1], model, optimizer, scheduler, scaler)
        step = int(found[1]["step"])
        log.info("resumed from %s at step %d", latest, step)

    net = DistributedDataParallel(model, device_ids=[info.device.index] if info.device.type == "cuda" else None) \
        if info.distributed else model
    if latest is not None:
        logger.truncate_after(step)
    log.info("training CHR (%s, %s) on SIXray%s: %d images, %d steps of %d from step %d", config.model.variant,
             config.model.backbone, config.data.subset, len(train_set), total, config.optim.batch_size, step)
    weights = sample_weights(train_set.labels) if config.data.sampler == "weighted" else None
    progress = tqdm(total=total, initial=step, desc="chr train", disable=not is_main(), dynamic_ncols=True)

    def save(step: int) -> None:
        if not is_main():
            return
        atomic_save({
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(), "rng": get_rng_state(),
            "step": step, "config": config.model_dump(mode="json"), "class_names": train_set.class_names,
        }, ckpt_dir / f"step_{step}.pt")
        prune_checkpoints(ckpt_dir, config.run.keep_checkpoints)

    while step < total:
        epoch, position = divmod(step, steps_per_epoch)
        sampler = EpochSampler(len(train_set), epoch, config.run.seed, weights, info.rank, info.world_size,
                               start=position * config.optim.batch_size)
        loader = DataLoader(train_set, batch_size=config.optim.batch_size, sampler=sampler, drop_last=True,
                            num_workers=config.data.workers, pin_memory=info.device.type == "cuda")
        net.train()
        for images, labels, _ in loader:
            images, labels = images.to(info.device, non_blocking=True), labels.to(info.device, non_blocking=True)
            autocast = torch.autocast("cuda", dtype=dtype) if dtype is not None else nullcontext()
            with autocast:
                logits = net(images)
            parts = criterion(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(parts.total).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            step += 1
            progress.update(1)
            if step % config.run.log_every == 0 or step == total:
                scalars = {"train/loss": parts.total.item(), "train/lr": optimizer.param_groups[0]["lr"],
                           "train/kept_fraction": parts.kept.item(), "train/epoch": epoch}
                scalars.update({f"train/loss_level{i}": v.item() for i, v in enumerate(parts.levels)})
                logger.log(step, **scalars)
                progress.set_postfix(loss=f"{scalars['train/loss']:.4f}")
            if step % config.run.checkpoint_every == 0 or step == total:
                save(step)
            if step >= total:
                break
    progress.close()

    if is_main():
        atomic_save({"model": model.state_dict(), "config": config.model_dump(mode="json"),
                     "class_names": train_set.class_names, "step": step}, run_dir / FINAL_MODEL)
        if config.run.evaluate:
            metrics = evaluate_model(model.eval(), config, train_set.class_names, config.data.root,
                                     config.data.subset)
            write_reports(metrics, run_dir)
            log.info("test mAP %.2f%%, pointing %.2f%%", 100 * metrics["mAP"], 100 * metrics["pointing_mean"])
    logger.close()
    return run_dir
