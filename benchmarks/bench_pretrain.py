"""Pretraining step time next to the bare encoder's step on the same batch (CPU by default, or CUDA).

The full step is segloc's own: :func:`segloc.pretrain.trainer.train_step` through the engine
(momentum update, shuffled key forward, query forward/backward through RoIAlign + head + per-class
queues, SGD, enqueue). The bare step is what any MoCo-style training of the same backbone+FPN must do anyway: query
backbone forward + backward (per micro-batch under ``--accum``), SGD (same implementation) and
momentum update on the backbone, key backbone forward in the same BN groups, under the same
autocast. ``ratio = step / bare`` is the overhead of heads, RoIAlign and queues.
Steps alternate (bare, full, bare, full, ...) and medians are compared, so drifting machine
load hits both alike; process CPU time is reported beside wall time (``ratio_cpu_time``), which
a shared machine distorts less. On CUDA the batch is on the GPU before timing starts, timers
synchronise the device, one extra step of each kind reads its peak memory, and
``resident_memory_gib`` is what stays allocated between steps (weights, optimizer state, queues,
batch). Prints one JSON object.

The paper's set-up (configs/pretrain/segloc-paper.yaml; one optimizer step of 64 pairs in 4
micro-batches of 16, keys in 4 groups):

    python benchmarks/bench_pretrain.py --device cuda --amp bf16 --arch resnet101 --attention \\
        --fpn-levels p2 p3 p4 p5 p6 --head-levels p2 p3 p4 p5 --checkpointing --channels-last \\
        --size 500 --batch 64 --accum 4 --queue 16384
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics

import devices
import torch

from segloc.engine.machine import machine_info
from segloc.pretrain.builder import build_model
from segloc.pretrain.config import PretrainConfig
from segloc.pretrain.trainer import Plan, train_step


def make_batch(batch: int, size: int, classes: int, seed: int = 0) -> dict:
    """A collated pair batch of random images with one box (side >= size/4) and a class each."""
    g = torch.Generator().manual_seed(seed)

    def view() -> dict:
        side = torch.randint(size // 4, size // 2, (batch, 1), generator=g).float()
        x = torch.rand(batch, 1, generator=g) * (size - side)
        y = torch.rand(batch, 1, generator=g) * (size - side)
        return {
            "image": torch.randn(batch, 3, size, size, generator=g),
            "box": torch.cat([x, y, x + side, y + side], dim=1),
            "label": torch.randint(1, classes + 1, (batch,), generator=g),
            "size": torch.full((batch, 2), size, dtype=torch.long),
        }

    return {"view1": view(), "view2": view()}


def on_device(batch: dict, device: torch.device, channels_last: bool) -> dict:
    """The batch moved to ``device``, images in the memory format the trainer would give them."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return {
        name: {
            k: (v.to(device).contiguous(memory_format=fmt) if k == "image" else v.to(device)) for k, v in view.items()
        }
        for name, view in batch.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="segloc", choices=["segloc", "insloc", "moco"])
    parser.add_argument("--arch", default="resnet18")
    parser.add_argument("--size", type=int, default=192, help="image side (px)")
    parser.add_argument("--batch", type=int, default=16, help="pairs per optimizer step")
    parser.add_argument("--accum", type=int, default=1, help="micro-batches per step (train.accum_steps)")
    parser.add_argument("--queue", type=int, default=4096, help="entries per queue")
    parser.add_argument("--classes", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--amp", default="none", choices=["none", "bf16"], help="autocast dtype (CUDA only)")
    parser.add_argument("--attention", action="store_true", help="SDANet attention after the FPN")
    parser.add_argument("--fpn-levels", nargs="+", default=["p2", "p3", "p4", "p5"])
    parser.add_argument("--head-levels", nargs="+", default=None, help="levels the RoI head embeds (default: all)")
    parser.add_argument("--checkpointing", action="store_true", help="recompute the ResNet stages in backward")
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = devices.pick(args.device)

    config = PretrainConfig.model_validate(
        {
            "method": args.method,
            "backbone": {
                "arch": args.arch,
                "fpn_levels": args.fpn_levels,
                "attention": args.attention,
                "checkpointing": args.checkpointing,
            },
            "head": {"levels": args.head_levels},
            "contrast": {"queue_size": args.queue, "shuffle_groups": 1 if args.accum > 1 else 2},
            "data": {"source": "shards", "shards": "unused"},
            "optim": {"schedule": "multistep"},
            "train": {
                "batch_size": args.batch,
                "accum_steps": args.accum,
                "device": args.device,
                "amp": args.amp,
                "channels_last": args.channels_last,
                "steps": 1000,
            },
        }
    )
    plan = Plan.of(config, world=1)
    micro = args.batch // args.accum
    model = build_model(config, list(range(1, args.classes + 1))).train()
    engine = devices.step_engine(model, config, device, lambda b, e: train_step(model, b, e, plan, config))
    batch = on_device(make_batch(args.batch, args.size, args.classes), device, args.channels_last)

    backbone_q, backbone_k = model.encoder_q.backbone, model.encoder_k.backbone
    bare_optimizer = torch.optim.SGD(
        [p for p in backbone_q.parameters() if p.requires_grad],
        lr=engine.lr,
        momentum=config.optim.momentum,
        fused=True,
    )
    images_q, images_k = batch["view1"]["image"], batch["view2"]["image"]

    def bare() -> None:
        with torch.no_grad():
            torch._foreach_lerp_(list(backbone_k.parameters()), [p.detach() for p in backbone_q.parameters()], 0.001)
            order = torch.randperm(args.batch).to(device)
            with devices.autocast(device, args.amp):
                for group in order.chunk(plan.key_groups):
                    backbone_k(images_k[group])
        for a in range(args.accum):
            with devices.autocast(device, args.amp):
                out = backbone_q(images_q[a * micro : (a + 1) * micro])
            (sum(level.float().mean() for level in out.values()) / args.accum).backward()
        bare_optimizer.step()
        bare_optimizer.zero_grad(set_to_none=True)

    def full(step: int = 0) -> None:
        engine.step = step
        engine.train_step(batch)

    bare()
    full(0)
    resident = devices.allocated_gib(device)
    bare_times, step_times = [], []
    for step in range(args.repeats):
        bare_times.append(devices.timed(bare, device))
        step_times.append(devices.timed(functools.partial(full, step + 1), device))
    peaks = {"bare": devices.peak_of(bare, device), "step": devices.peak_of(full, device)}
    bare_s, step_s = (statistics.median(t[0] for t in times) for times in (bare_times, step_times))
    bare_cpu, step_cpu = (statistics.median(t[1] for t in times) for times in (bare_times, step_times))
    print(
        json.dumps(
            {
                "benchmark": "pretrain_step_vs_bare_encoder",
                "method": args.method,
                "arch": args.arch,
                "image_size": args.size,
                "batch": args.batch,
                "accum_steps": args.accum,
                "micro_batch": micro,
                "device": args.device,
                "amp": devices.effective_amp(device, args.amp),
                "attention": args.attention,
                "fpn_levels": args.fpn_levels,
                "checkpointing": args.checkpointing,
                "queue_size": args.queue,
                "queues": model.queues.num_queues,
                "levels": list(model.queues.levels),
                "key_groups": plan.key_groups,
                "channels_last": args.channels_last,
                "bare_step_s": round(bare_s, 4),
                "pretrain_step_s": round(step_s, 4),
                "ratio": round(step_s / bare_s, 3),
                "bare_step_cpu_s": round(bare_cpu, 4),
                "pretrain_step_cpu_s": round(step_cpu, 4),
                "ratio_cpu_time": round(step_cpu / bare_cpu, 3),
                "pairs_per_s": round(args.batch / step_s, 2),
                "bare_pairs_per_s": round(args.batch / bare_s, 2),
                "peak_memory_gib": peaks,
                "resident_memory_gib": resident,
                "bare_times_s": [round(t[0], 4) for t in bare_times],
                "step_times_s": [round(t[0], 4) for t in step_times],
                "machine": {**machine_info(), **devices.describe(device)},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
