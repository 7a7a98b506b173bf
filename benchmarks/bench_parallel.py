"""Fine-tuning runs side by side on a CPU: the training steps per second of P processes with 1/P of the
torch threads each, against one process with all of them (an experiment's ``finetune.parallel``).

Every process builds its own detector from a fine-tuning config's model (default
configs/finetune/cpu-demo.yaml: Cascade Mask R-CNN, ResNet-18, 160 px) and trains it on the same
synthetic batch (bench_detection's) through segloc's training step; the timed steps of all processes
start together behind a barrier, and a layout's throughput is all its steps over the slowest process's
seconds. No data loading: in an experiment each run's loader workers add their own load. The two
layouts alternate for ``--rounds`` rounds. Prints one JSON object.

    python benchmarks/bench_parallel.py [--size 160] [--processes 2] [--batch 4] [--steps 30] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from pathlib import Path

import torch

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "finetune" / "cpu-demo.yaml"


def _worker(config: Path, size: int | None, threads: int, batch: int, steps: int, barrier, results) -> None:
    """Build a detector, warm up, wait for the others, then time ``steps`` training steps."""
    import bench_detection
    import devices

    from segloc.config import load_config
    from segloc.detection import FinetuneConfig, build_detector
    from segloc.detection.train import train_step

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    sets = ["data.root=unused", f"train.batch_size={batch}"] + ([f"model.image_size={size}"] if size else [])
    cfg = load_config(config, FinetuneConfig, sets)
    cfg = cfg.model_copy(update={"optim": cfg.optim.model_copy(update={"warmup_steps": 0})})
    device = torch.device("cpu")
    model = build_detector(cfg.model, bench_detection.NUM_CLASSES, masks=True)
    images, targets = bench_detection._batch(cfg.model.image_size, batch, device)
    engine = devices.step_engine(model, cfg, device, train_step)
    model.train()
    for _ in range(3):
        engine.train_step((images, targets))
    barrier.wait()
    start = time.perf_counter()
    for _ in range(steps):
        engine.train_step((images, targets))
    results.put(time.perf_counter() - start)


def _layout(config: Path, size: int | None, processes: int, threads: int, batch: int, steps: int) -> dict[str, float]:
    """Steps per second of ``processes`` concurrent trainings with ``threads`` torch threads each."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_worker, args=(config, size, threads, batch, steps, barrier, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    seconds = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    return {"processes": processes, "threads_each": threads, "steps_per_s": round(processes * steps / max(seconds), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG, help="fine-tuning config whose model is trained")
    parser.add_argument("--size", type=int, default=None, help="longer image side (default: the config's)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads in all (default: torch's)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from segloc.engine.machine import machine_info

    threads = args.threads or torch.get_num_threads()
    rounds = []
    for _ in range(args.rounds):
        one = _layout(args.config, args.size, 1, threads, args.batch, args.steps)
        each = max(1, threads // args.processes)
        side_by_side = _layout(args.config, args.size, args.processes, each, args.batch, args.steps)
        rounds.append({"one": one, "side_by_side": side_by_side})
    ratios = [r["side_by_side"]["steps_per_s"] / r["one"]["steps_per_s"] for r in rounds]
    print(
        json.dumps(
            {
                "benchmark": "parallel_finetune",
                "config": str(args.config),
                "batch": args.batch,
                "steps": args.steps,
                "threads": threads,
                "rounds": rounds,
                "speedup_side_by_side": [round(r, 3) for r in ratios],
                "machine": machine_info(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
