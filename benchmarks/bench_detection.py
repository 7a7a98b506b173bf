"""Detector throughput on CPU: training iterations/s and inference images/s next to the bare backbone.

The same batch goes through (a) the bare ResNet+FPN backbone (forward, or forward + backward +
SGD step) and (b) each detector (Cascade Mask R-CNN, Mask R-CNN) with the cpu-demo settings
(ResNet-18, longer side 320 px); the ratios detector/bare show what RPN + RoI heads + masks cost.
Prints one JSON object.

    python benchmarks/bench_detection.py [--size 320] [--batch 2] [--iters 3] [--kinds cascade mask_rcnn]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from segloc.config import load_config
from segloc.detection import FinetuneConfig, ModelConfig, build_detector

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "finetune" / "cpu-demo.yaml"
NUM_CLASSES = 12


def _time(step, iters: int) -> float:
    """Median seconds of ``step()`` over ``iters`` runs after one warm-up."""
    step()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def _batch(size: int, batch: int) -> tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]:
    """Images of size x 3/4 size with two boxed, masked objects each (fixed seed)."""
    gen = torch.Generator().manual_seed(0)
    h, w = size * 3 // 4, size
    images, targets = [], []
    for _ in range(batch):
        images.append(torch.rand(3, h, w, generator=gen))
        boxes = torch.tensor([[0.1 * w, 0.2 * h, 0.45 * w, 0.7 * h], [0.5 * w, 0.3 * h, 0.9 * w, 0.9 * h]])
        masks = torch.zeros(2, h, w, dtype=torch.uint8)
        for k, (x1, y1, x2, y2) in enumerate(boxes.int().tolist()):
            masks[k, y1:y2, x1:x2] = 1
        targets.append({"boxes": boxes, "labels": torch.tensor([3, 7]), "masks": masks})
    return images, targets


def _bench(cfg: ModelConfig, kinds: list[str], size: int, batch: int, iters: int) -> dict:
    images, targets = _batch(size, batch)
    result: dict[str, float] = {}
    torch.manual_seed(0)
    bare_model = build_detector(cfg, NUM_CLASSES, masks=True)
    bare = bare_model.backbone
    padded = bare_model.transform(images)[0].tensors  # the exact tensor the detector's backbone sees
    opt = torch.optim.SGD(bare.parameters(), lr=1e-4, momentum=0.9)

    def bare_train() -> None:
        bare.train()
        loss = sum(f.float().mean() for f in bare(padded).values())
        opt.zero_grad()
        loss.backward()
        opt.step()

    def bare_infer() -> None:
        bare.eval()
        with torch.no_grad():
            bare(padded)

    result["bare_train_it_s"] = 1 / _time(bare_train, iters)
    result["bare_infer_img_s"] = batch / _time(bare_infer, iters)
    for kind in kinds:
        torch.manual_seed(0)
        model = build_detector(cfg.model_copy(update={"kind": kind}), NUM_CLASSES, masks=True)
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

        def train_step() -> None:
            model.train()
            loss = sum(model(images, targets).values())
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 35.0)
            optimizer.step()

        def infer_step() -> None:
            model.eval()
            with torch.no_grad():
                model(images)

        result[f"{kind}_train_it_s"] = 1 / _time(train_step, iters)
        result[f"{kind}_infer_img_s"] = batch / _time(infer_step, iters)
        result[f"{kind}_params_m"] = sum(p.numel() for p in model.parameters()) / 1e6
        result[f"{kind}_train_ratio_to_bare"] = result[f"{kind}_train_it_s"] / result["bare_train_it_s"]
        result[f"{kind}_infer_ratio_to_bare"] = result[f"{kind}_infer_img_s"] / result["bare_infer_img_s"]
    result["bare_params_m"] = sum(p.numel() for p in bare.parameters()) / 1e6
    return {k: round(v, 4) for k, v in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=320, help="longer image side")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--kinds", nargs="+", default=["cascade", "mask_rcnn"])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(CONFIG, FinetuneConfig, [f"model.image_size={args.size}"]).model
    report = {
        "benchmark": "detection",
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "torch": torch.__version__, "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine()},
        "settings": {"config": CONFIG.name, "arch": cfg.arch, "size": args.size, "batch": args.batch,
                     "iters": args.iters, "num_classes": NUM_CLASSES},
        "results": _bench(cfg, args.kinds, args.size, args.batch, args.iters),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
