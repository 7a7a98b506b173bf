"""CHR throughput: training and inference images/s next to the bare torchvision backbone (CPU or CUDA).

For each backbone the same batch goes through (a) the bare torchvision classifier (forward, or
forward + backward + SGD step) and (b) CHR (three levels, reversed connections, class-balanced
loss; ``segloc chr train``'s own step, ``classification.train.train_step`` through the engine);
the ratios bare/CHR show what the hierarchy costs. Training runs under autocast with ``--amp``
on CUDA, inference in full precision (as ``segloc chr
evaluate``). On CUDA the batch is on the GPU before timing starts, timers synchronise the device,
and one more step of each kind reads its peak memory. Prints one JSON object.

    python benchmarks/bench_chr.py [--archs resnet18 resnet34] [--size 224] [--batch 8] [--iters 3]
    python benchmarks/bench_chr.py --device cuda --amp bf16 --archs resnet101 --batch 32 --iters 10
"""

from __future__ import annotations

import argparse
import json

import devices
import torch
import torch.nn.functional as F
from torchvision import models

from segloc.classification.chr import CHRNet
from segloc.classification.config import ChrConfig
from segloc.classification.loss import ClassBalancedLoss
from segloc.classification.train import train_step as chr_train_step
from segloc.engine.machine import machine_info


def _median_times(steps: dict, iters: int, device: torch.device) -> dict[str, float]:
    """Median seconds of each step over ``iters`` rounds after one warm-up each; the steps are
    interleaved round by round so that a busy machine slows all of them alike."""
    for step in steps.values():
        step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(iters):
        for name, step in steps.items():
            times[name].append(devices.timed(step, device)[0])
    return {name: sorted(t)[len(t) // 2] for name, t in times.items()}


def _steps(net: torch.nn.Module, x: torch.Tensor, loss_fn, amp: str) -> tuple:
    """(train step, inference step) closures for ``net`` on batch ``x``."""
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def train_step() -> None:
        net.train()
        with devices.autocast(x.device, amp):
            out = net(x)
        loss = loss_fn(out)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def infer_step() -> None:
        net.eval()
        with torch.no_grad():
            net.predict(x) if isinstance(net, CHRNet) else net(x)

    return train_step, infer_step


def _bench_pair(arch: str, size: int, batch: int, iters: int, amp: str, device: torch.device) -> dict:
    torch.manual_seed(0)
    x = torch.randn(batch, 3, size, size).to(device)
    labels = torch.randint(-1, 2, (batch, 5)).float().to(device)
    bare = getattr(models, arch)(weights=None, num_classes=5).to(device)
    chr_net = CHRNet(arch, num_classes=5, variant="chr").to(device)
    criterion = ClassBalancedLoss(balanced=True)
    bare_train, bare_infer = _steps(
        bare, x, lambda out: F.binary_cross_entropy_with_logits(out.float(), (labels >= 0).float()), amp
    )
    _, chr_infer = _steps(chr_net, x, lambda out: criterion(out, labels).total, amp)
    config = ChrConfig.model_validate({"train": {"batch_size": batch, "amp": amp}})
    engine = devices.step_engine(chr_net, config, device, lambda b, e: chr_train_step(b, e, criterion))

    def chr_train() -> None:
        chr_net.train()
        engine.train_step((x, labels, []))

    steps = {"bare_train": bare_train, "chr_train": chr_train, "bare_infer": bare_infer, "chr_infer": chr_infer}
    seconds = _median_times(steps, iters, device)
    result: dict = {f"{name}_img_s": batch / t for name, t in seconds.items()}
    result["bare_params_m"] = sum(p.numel() for p in bare.parameters()) / 1e6
    result["chr_params_m"] = sum(p.numel() for p in chr_net.parameters()) / 1e6
    result["train_ratio_chr_over_bare"] = result["chr_train_img_s"] / result["bare_train_img_s"]
    result["infer_ratio_chr_over_bare"] = result["chr_infer_img_s"] / result["bare_infer_img_s"]
    result = {k: round(v, 3) for k, v in result.items()}
    if device.type == "cuda":
        result["peak_memory_gib"] = {name: devices.peak_of(step, device) for name, step in steps.items()}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["resnet18", "resnet34"])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--amp", default="none", choices=["none", "bf16"], help="training autocast dtype (CUDA only)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = devices.pick(args.device)
    report = {
        "benchmark": "chr",
        "machine": {**machine_info(), **devices.describe(device)},
        "settings": {
            "size": args.size,
            "batch": args.batch,
            "iters": args.iters,
            "device": args.device,
            "amp_train": devices.effective_amp(device, args.amp),
        },
        "results": {
            arch: _bench_pair(arch, args.size, args.batch, args.iters, args.amp, device) for arch in args.archs
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
