"""Detector throughput: training iterations/s and inference images/s next to the bare backbone (CPU or CUDA).

The same batch goes through (a) the bare ResNet+FPN backbone (with SDANet attention when the
detector has it; forward, or forward + backward + SGD step) and (b) each detector (Cascade Mask
R-CNN, Mask R-CNN) built from the model section of a fine-tuning config (default cpu-demo:
ResNet-18, longer side 320 px, light heads; configs/finetune/paper.yaml: ResNet-101 + SDANet,
500 px, the paper's heads); the ratios detector/bare show what RPN + RoI heads + masks cost.
Training runs ``segloc finetune``'s own step (``detection.train.train_step`` through the engine):
under autocast with ``--amp`` on CUDA (fp16 with a gradient scaler, as train.amp), gradients
clipped at 35. Inference runs in full
precision through segloc's batched test-time path, as ``segloc evaluate`` does (``infer``: scans
already resized, as its loader workers hand them over; masks pasted at scan size), and for
comparison through torchvision's ``GeneralizedRCNN.forward`` (``forward``: resize on the device,
masks pasted one by one). On CUDA the batch is on the GPU before timing starts, timers
synchronise the device, and one more step of each kind reads its peak memory. On CPU, one more
training step of each detector is taken apart (``breakdown``): forward seconds of each part
(trunk, FPN, RPN, RoI heads and, inside them, RoI pooling, each cascade stage and the mask head;
inclusive, from module hooks), backward + update as the rest of the step, and the self time of
the costliest operator families (convolutions, BatchNorm, RoIAlign, NMS) forward and backward,
from torch.profiler (on a CPU, segloc's RoIAlign runs as embedding_bag); on a CPU the training step is
timed against itself with torchvision's RoIAlign in its place (the peer; the two alternate); with
``--data`` also the seconds to load and augment one batch from a PIDray root. Prints one JSON object.

    python benchmarks/bench_detection.py [--size 320] [--batch 2] [--iters 3] [--kinds cascade mask_rcnn]
    python benchmarks/bench_detection.py --config configs/finetune/paper.yaml --device cuda --amp fp16 \\
        --batch 8 --iters 10 --kinds cascade
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import devices
import torch
import torchvision

from segloc.config import load_config
from segloc.detection import FinetuneConfig, ModelConfig, build_detector
from segloc.detection.forward import run_detector
from segloc.detection.train import train_step as detection_train_step
from segloc.engine.machine import machine_info

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "finetune" / "cpu-demo.yaml"
NUM_CLASSES = 12
Targets = list[dict[str, torch.Tensor]]


def _time(step, iters: int, device: torch.device) -> float:
    """Median seconds of ``step()`` over ``iters`` runs after one warm-up."""
    step()
    times = sorted(devices.timed(step, device)[0] for _ in range(iters))
    return times[len(times) // 2]


def _batch(size: int, batch: int, device: torch.device) -> tuple[list[torch.Tensor], Targets]:
    """Images of size x 3/4 size with two boxed, masked objects each (fixed seed), on ``device``."""
    gen = torch.Generator().manual_seed(0)
    h, w = size * 3 // 4, size
    images, targets = [], []
    for _ in range(batch):
        images.append(torch.rand(3, h, w, generator=gen).to(device))
        boxes = torch.tensor([[0.1 * w, 0.2 * h, 0.45 * w, 0.7 * h], [0.5 * w, 0.3 * h, 0.9 * w, 0.9 * h]])
        masks = torch.zeros(2, h, w, dtype=torch.uint8)
        for k, (x1, y1, x2, y2) in enumerate(boxes.int().tolist()):
            masks[k, y1:y2, x1:x2] = 1
        targets.append(
            {k: v.to(device) for k, v in {"boxes": boxes, "labels": torch.tensor([3, 7]), "masks": masks}.items()}
        )
    return images, targets


def _bench_bare(
    cfg: ModelConfig, images: list[torch.Tensor], iters: int, amp: str, device: torch.device
) -> tuple[dict[str, float], dict[str, object]]:
    """Train it/s, inference img/s and parameters (M) of the detector's backbone alone; peak memory."""
    torch.manual_seed(0)
    bare_model = build_detector(cfg, NUM_CLASSES, masks=True).to(device)
    bare = bare_model.backbone
    padded = bare_model.transform(images)[0].tensors  # the exact tensor the detector's backbone sees
    opt = torch.optim.SGD(bare.parameters(), lr=1e-4, momentum=0.9)
    scaler = torch.amp.GradScaler(device.type, enabled=devices.effective_amp(device, amp) == "fp16")

    def bare_train() -> None:
        bare.train()
        with devices.autocast(device, amp):
            loss = sum(f.float().mean() for f in bare(padded).values())
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    def bare_infer() -> None:
        bare.eval()
        with torch.no_grad():
            bare(padded)

    result = {
        "bare_train_it_s": 1 / _time(bare_train, iters, device),
        "bare_infer_img_s": len(images) / _time(bare_infer, iters, device),
        "bare_params_m": sum(p.numel() for p in bare.parameters()) / 1e6,
    }
    peaks = {"bare_train": devices.peak_of(bare_train, device), "bare_infer": devices.peak_of(bare_infer, device)}
    return result, peaks


OPERATORS = {
    "convolution": ("convolution",),
    "batch_norm": ("batch_norm",),
    "roi_align": ("roi_align", "embedding_bag"),
    "nms": ("nms",),
}


def _parts(model: torch.nn.Module) -> dict[str, torch.nn.Module]:
    """The detector's parts whose forward time the breakdown reports."""
    parts = {
        "backbone.body": model.backbone.body,
        "backbone.fpn": model.backbone.fpn,
        "rpn": model.rpn,
        "roi_heads": model.roi_heads,
        "roi_heads.box_roi_pool": model.roi_heads.box_roi_pool,
    }
    for k, stage in enumerate(getattr(model.roi_heads, "stages", [])):
        parts[f"roi_heads.stage{k}"] = stage
    for name in ("box_head", "box_predictor", "mask_roi_pool", "mask_head", "mask_predictor"):
        module = getattr(model.roi_heads, name, None)
        if module is not None:
            parts[f"roi_heads.{name}"] = module
    return parts


def _breakdown(model: torch.nn.Module, train_step: Callable[[], None]) -> dict[str, object]:
    """Seconds of one training step: forward per part (inclusive), backward + update (the rest), and the
    self time of the costliest operator families (forward and backward kernels together)."""
    from torch.profiler import ProfilerActivity, profile

    forward: dict[str, float] = defaultdict(float)
    started: dict[str, list[float]] = defaultdict(list)
    handles = []
    for name, module in _parts(model).items():
        handles.append(module.register_forward_pre_hook(lambda *_, n=name: started[n].append(time.perf_counter())))
        handles.append(
            module.register_forward_hook(
                lambda *_, n=name: forward.__setitem__(n, forward[n] + time.perf_counter() - started[n].pop())
            )
        )
    try:
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            start = time.perf_counter()
            train_step()
            total = time.perf_counter() - start
    finally:
        for handle in handles:
            handle.remove()
    operators: dict[str, float] = defaultdict(float)
    for event in prof.key_averages():
        for family, needles in OPERATORS.items():
            if any(n in event.key for n in needles):
                operators[f"{family}_{'backward' if 'backward' in event.key else 'forward'}"] += (
                    event.self_cpu_time_total / 1e6
                )
    top = sum(forward[p] for p in ("backbone.body", "backbone.fpn", "rpn", "roi_heads"))
    return {
        "step_s": round(total, 4),
        "forward_s": {k: round(v, 4) for k, v in forward.items()},
        "forward_total_s": round(top, 4),
        "backward_and_update_s": round(total - top, 4),
        "operators_self_s": {k: round(v, 4) for k, v in sorted(operators.items())},
        "note": "profiled step: slower than the timed ones (profiler overhead)",
    }


def _data_seconds(root: Path, cfg: ModelConfig, batch: int) -> float:
    """Median seconds to load, decode and augment one batch of PIDray train scans (one process)."""
    from segloc.data import load_pidray
    from segloc.detection.data import CategoryMap, DetectionDataset
    from segloc.detection.transforms import training_transforms

    train = load_pidray(root, ("train",))["train"]
    dataset = DetectionDataset(
        train, CategoryMap.from_dataset(train), training_transforms(cfg.image_size, 0.5), masks=train.has_masks
    )
    times = []
    for k in range(5):
        start = time.perf_counter()
        for i in range(batch):
            dataset[(k * batch + i) % len(dataset)]
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


@contextmanager
def _torchvision_pools(model: torch.nn.Module) -> Iterator[None]:
    """Within the block the RoI heads pool with torchvision's own pooler: the peer of segloc's CPU RoIAlign."""
    heads = model.roi_heads
    ours = {name: getattr(heads, name) for name in ("box_roi_pool", "mask_roi_pool") if getattr(heads, name, None)}
    for name, pool in ours.items():
        peer = torchvision.ops.MultiScaleRoIAlign(pool.featmap_names, pool.output_size, pool.sampling_ratio)
        setattr(heads, name, peer)
    try:
        yield
    finally:
        for name, pool in ours.items():
            setattr(heads, name, pool)


def _time_against_peer(
    step: Callable[[], None], model: torch.nn.Module, iters: int, device: torch.device
) -> tuple[float, float]:
    """Median seconds of ``step()`` with segloc's and with torchvision's RoIAlign, the two alternating."""
    ours, peer = [], []
    for _ in range(iters):
        ours.append(devices.timed(step, device)[0])
        with _torchvision_pools(model):
            peer.append(devices.timed(step, device)[0])
    return sorted(ours)[len(ours) // 2], sorted(peer)[len(peer) // 2]


def _bench_kind(
    cfg: ModelConfig,
    kind: str,
    images: list[torch.Tensor],
    targets: Targets,
    iters: int,
    amp: str,
    device: torch.device,
) -> tuple[dict[str, float], dict[str, object], dict | None]:
    """Train it/s, inference img/s and parameters (M) of one detector; peak memory; the step's breakdown (CPU)."""
    torch.manual_seed(0)
    model_cfg = cfg.model_copy(update={"kind": kind})
    model = build_detector(model_cfg, NUM_CLASSES, masks=True).to(device)
    run_cfg = FinetuneConfig.model_validate(
        {
            "model": model_cfg.model_dump(),
            "data": {"root": "unused"},
            "optim": {"lr": 1e-4, "lr_batch": None, "warmup_steps": 0, "grad_clip": 35.0},
            "train": {"batch_size": len(images), "amp": amp},
        }
    )
    engine = devices.step_engine(model, run_cfg, device, detection_train_step)

    def train_step() -> None:
        model.train()
        engine.train_step((images, targets))

    sizes = [tuple(im.shape[-2:]) for im in images]

    def infer_step() -> None:
        model.eval()
        run_detector(model, images, sizes)

    def forward_step() -> None:
        model.eval()
        with torch.no_grad():
            model(images)

    breakdown = _breakdown(model, train_step) if device.type == "cpu" else None
    if device.type == "cpu":
        ours, peer = _time_against_peer(train_step, model, iters, device)
        result = {f"{kind}_train_it_s": 1 / ours, f"{kind}_train_it_s_torchvision_roi_align": 1 / peer}
    else:
        result = {f"{kind}_train_it_s": 1 / _time(train_step, iters, device)}
    result |= {
        f"{kind}_infer_img_s": len(images) / _time(infer_step, iters, device),
        f"{kind}_forward_img_s": len(images) / _time(forward_step, iters, device),
        f"{kind}_detections_per_img": sum(len(d["boxes"]) for d in run_detector(model, images, sizes)) / len(images),
        f"{kind}_params_m": sum(p.numel() for p in model.parameters()) / 1e6,
    }
    return (
        result,
        {f"{kind}_train": devices.peak_of(train_step, device), f"{kind}_infer": devices.peak_of(infer_step, device)},
        breakdown,
    )


def _bench(
    cfg: ModelConfig, kinds: list[str], batch: int, iters: int, amp: str, device: torch.device
) -> tuple[dict[str, float], dict[str, object], dict[str, dict]]:
    images, targets = _batch(cfg.image_size, batch, device)
    result, memory = _bench_bare(cfg, images, iters, amp, device)
    breakdowns = {}
    for kind in kinds:
        figures, peaks, breakdown = _bench_kind(cfg, kind, images, targets, iters, amp, device)
        result.update(figures)
        memory.update(peaks)
        if breakdown is not None:
            breakdowns[kind] = breakdown
        result[f"{kind}_train_ratio_to_bare"] = result[f"{kind}_train_it_s"] / result["bare_train_it_s"]
        result[f"{kind}_infer_ratio_to_bare"] = result[f"{kind}_infer_img_s"] / result["bare_infer_img_s"]
        result[f"{kind}_forward_ratio_to_bare"] = result[f"{kind}_forward_img_s"] / result["bare_infer_img_s"]
        peer = result.get(f"{kind}_train_it_s_torchvision_roi_align")
        if peer:
            result[f"{kind}_train_speedup_over_torchvision_roi_align"] = result[f"{kind}_train_it_s"] / peer
    return {k: round(v, 4) for k, v in result.items()}, memory, breakdowns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG, help="fine-tuning config whose model is timed")
    parser.add_argument("--size", type=int, default=None, help="longer image side (default: the config's)")
    parser.add_argument("--arch", default=None, help="backbone (default: the config's)")
    parser.add_argument(
        "--attention",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="SDANet attention on/off (default: the config's)",
    )
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--kinds", nargs="+", default=["cascade", "mask_rcnn"])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument(
        "--amp", default="none", choices=["none", "fp16", "bf16"], help="training autocast dtype (CUDA only)"
    )
    parser.add_argument("--data", type=Path, default=None, help="a PIDray root: also time loading one batch")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = devices.pick(args.device)
    overrides = {"image_size": args.size, "arch": args.arch, "attention": args.attention}
    sets = [f"model.{k}={v}" for k, v in overrides.items() if v is not None]
    cfg = load_config(args.config, FinetuneConfig, sets).model
    results, memory, breakdowns = _bench(cfg, args.kinds, args.batch, args.iters, args.amp, device)
    report = {
        "benchmark": "detection",
        "machine": {**machine_info(), **devices.describe(device)},
        "settings": {
            "config": args.config.name,
            "arch": cfg.arch,
            "attention": cfg.attention,
            "size": cfg.image_size,
            "batch": args.batch,
            "iters": args.iters,
            "num_classes": NUM_CLASSES,
            "device": args.device,
            "amp_train": devices.effective_amp(device, args.amp),
        },
        "results": results,
    }
    if breakdowns:
        report["breakdown"] = breakdowns
    if args.data is not None:
        report["data_s_per_batch"] = round(_data_seconds(args.data, cfg, args.batch), 4)
    if device.type == "cuda":
        report["peak_memory_gib"] = memory
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
