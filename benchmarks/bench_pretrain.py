"""Pretraining step time next to the bare encoder's step on the same batch (CPU by default).

The full step is :func:`segloc.pretrain.trainer.train_step` (momentum update, shuffled key
forward, query forward/backward through RoIAlign + head + per-class queues, SGD, enqueue). The
bare step is what any MoCo-style training of the same backbone+FPN must do anyway: query
backbone forward + backward, SGD (same implementation) and momentum update on the backbone, key backbone forward in
the same BN groups. ``ratio = step / bare`` is the overhead of heads, RoIAlign and queues.
Steps alternate (bare, full, bare, full, ...) and medians are compared, so drifting machine
load hits both alike; process CPU time is reported beside wall time (``ratio_cpu_time``), which
a shared machine distorts less. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch

from segloc.pretrain.builder import build_model
from segloc.pretrain.config import PretrainConfig
from segloc.pretrain.trainer import Plan, make_sgd, train_step


def make_batch(batch: int, size: int, classes: int, seed: int = 0) -> dict:
    """A collated pair batch of random images with one box (side >= size/4) and a class each."""
    g = torch.Generator().manual_seed(seed)

    def view() -> dict:
        side = torch.randint(size // 4, size // 2, (batch, 1), generator=g).float()
        x = torch.rand(batch, 1, generator=g) * (size - side)
        y = torch.rand(batch, 1, generator=g) * (size - side)
        return {"image": torch.randn(batch, 3, size, size, generator=g),
                "box": torch.cat([x, y, x + side, y + side], dim=1),
                "label": torch.randint(1, classes + 1, (batch,), generator=g),
                "size": torch.full((batch, 2), size, dtype=torch.long)}

    return {"view1": view(), "view2": view()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="segloc", choices=["segloc", "insloc", "moco"])
    parser.add_argument("--arch", default="resnet18")
    parser.add_argument("--size", type=int, default=192, help="image side (px)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--queue", type=int, default=4096, help="entries per queue")
    parser.add_argument("--classes", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    config = PretrainConfig.model_validate({
        "method": args.method, "backbone": {"arch": args.arch},
        "contrast": {"queue_size": args.queue},
        "data": {"source": "shards", "shards": "unused"},
        "train": {"batch_size": args.batch, "device": "cpu", "amp": "none", "shuffle_groups": 2,
                  "channels_last": args.channels_last, "steps": 1000},
    })
    plan = Plan.of(config, world=1, pairs=10**6)
    model = build_model(config, list(range(1, args.classes + 1))).train()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_sgd([p for p in model.encoder_q.parameters() if p.requires_grad], plan.lr, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    batch = make_batch(args.batch, args.size, args.classes)

    backbone_q, backbone_k = model.encoder_q.backbone, model.encoder_k.backbone
    bare_optimizer = make_sgd([p for p in backbone_q.parameters() if p.requires_grad], plan.lr, config)
    images_q, images_k = batch["view1"]["image"], batch["view2"]["image"]
    if args.channels_last:
        images_q = images_q.contiguous(memory_format=torch.channels_last)
        images_k = images_k.contiguous(memory_format=torch.channels_last)

    def bare() -> None:
        with torch.no_grad():
            torch._foreach_lerp_(list(backbone_k.parameters()), [p.detach() for p in backbone_q.parameters()], 0.001)
            order = torch.randperm(args.batch)
            for group in order.chunk(plan.key_groups):
                backbone_k(images_k[group])
        out = backbone_q(images_q)
        sum(level.mean() for level in out.values()).backward()
        bare_optimizer.step()
        bare_optimizer.zero_grad(set_to_none=True)

    def full(step: int) -> None:
        train_step(model, model, batch, optimizer, scheduler, scaler, plan, config, step, torch.device("cpu"))

    def timed(fn, *a) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        fn(*a)
        return time.perf_counter() - wall, time.process_time() - cpu

    bare()
    full(0)
    bare_times, step_times = [], []
    for step in range(args.repeats):
        bare_times.append(timed(bare))
        step_times.append(timed(full, step + 1))
    bare_s, step_s = (statistics.median(t[0] for t in times) for times in (bare_times, step_times))
    bare_cpu, step_cpu = (statistics.median(t[1] for t in times) for times in (bare_times, step_times))
    print(json.dumps({
        "benchmark": "pretrain_step_vs_bare_encoder",
        "method": args.method, "arch": args.arch, "image_size": args.size, "batch": args.batch,
        "queue_size": args.queue, "queues": model.queues.num_queues, "levels": list(model.queues.levels),
        "key_groups": plan.key_groups, "channels_last": args.channels_last,
        "bare_step_s": round(bare_s, 4), "pretrain_step_s": round(step_s, 4), "ratio": round(step_s / bare_s, 3),
        "bare_step_cpu_s": round(bare_cpu, 4), "pretrain_step_cpu_s": round(step_cpu, 4),
        "ratio_cpu_time": round(step_cpu / bare_cpu, 3), "pairs_per_s": round(args.batch / step_s, 2),
        "bare_times_s": [round(t[0], 4) for t in bare_times], "step_times_s": [round(t[0], 4) for t in step_times],
        "machine": {"cpu_count": os.cpu_count(), "threads": args.threads, "torch": torch.__version__,
                    "python": platform.python_version(), "processor": platform.processor() or platform.machine()},
    }, indent=2))


if __name__ == "__main__":
    main()
