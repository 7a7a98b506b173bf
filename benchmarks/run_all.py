"""Run every benchmark of the project and write one JSON + Markdown summary.

Each ``bench_*.py`` prints one JSON object (figures and their ratios to a bare baseline measured
in the same run). This script runs them one after the other in fresh processes, so they do not
compete for the cores, and collects their outputs with the machine they ran on. A benchmark that
fails or outlives ``--timeout`` is recorded with the end of its error output; the others still run.

    python benchmarks/run_all.py [--out benchmarks/results] [--only generator synthesis ...] [--quick]
    python benchmarks/run_all.py --gpu [--out benchmarks/results]

``--gpu`` runs the CUDA set at the paper's scale instead (summary-gpu.json / .md): SegLoc
pretraining (ResNet-101 + FPN P2-P6 + SDANet, 500 px, 64 pairs per step in 4 micro-batches of 16,
12 queues of 16,384, bf16, channels_last, with and without activation checkpointing), Cascade
Mask R-CNN R-101 + SDANet at 500 px (batch 2 and 8, fp16 as ``segloc finetune``), and CHR
ResNet-101 at 224 px (batch 32, bf16).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from segloc.engine.machine import machine_info

HERE = Path(__file__).resolve().parent
QUICK_ARGS = {
    "generator": ["--scans", "20"],
    "synthesis": ["--pairs", "20", "--repeats", "1"],
    "pretrain": ["--repeats", "2"],
    "detection": ["--iters", "2", "--kinds", "cascade"],
    "chr": ["--iters", "2", "--archs", "resnet18"],
}
PAPER_PRETRAIN = [
    "--device",
    "cuda",
    "--amp",
    "bf16",
    "--arch",
    "resnet101",
    "--attention",
    "--fpn-levels",
    "p2",
    "p3",
    "p4",
    "p5",
    "p6",
    "--head-levels",
    "p2",
    "p3",
    "p4",
    "p5",
    "--channels-last",
    "--size",
    "500",
    "--batch",
    "64",
    "--accum",
    "4",
    "--queue",
    "16384",
    "--classes",
    "12",
    "--repeats",
    "6",
]
PAPER_DETECTION = [
    "--device",
    "cuda",
    "--amp",
    "fp16",
    "--config",
    str(HERE.parent / "configs/finetune/paper.yaml"),
    "--arch",
    "resnet101",
    "--attention",
    "--size",
    "500",
    "--iters",
    "10",
    "--kinds",
    "cascade",
]
# Run name -> arguments; the name's part before "-" is the script (bench_<script>.py).
GPU_RUNS = {
    "pretrain": [*PAPER_PRETRAIN, "--checkpointing"],
    "detection-batch2": [*PAPER_DETECTION, "--batch", "2"],
    "detection-batch8": [*PAPER_DETECTION, "--batch", "8"],
    "chr": [
        "--device",
        "cuda",
        "--amp",
        "bf16",
        "--archs",
        "resnet101",
        "--size",
        "224",
        "--batch",
        "32",
        "--iters",
        "10",
    ],
    "pretrain-no_checkpointing": PAPER_PRETRAIN,
}
CPU_FIGURES = ("ratio", "overhead")
GPU_FIGURES = (*CPU_FIGURES, "_it_s", "_img_s", "pairs_per_s", "step_s", "allocated", "resident")


def machine() -> dict:
    info = machine_info()
    if torch.cuda.is_available():
        info["cuda"] = torch.version.cuda
    return info


def run_one(script: str, extra: list[str], timeout: float | None) -> dict:
    """Run ``bench_<script>.py`` and parse the JSON object it prints last."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(HERE / f"bench_{script}.py"), *extra],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        proc = None
    seconds = round(time.perf_counter() - start, 1)
    if proc is None:
        return {"error": [f"timed out after {timeout} s"], "args": extra, "seconds": seconds}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-25:] or ["failed"], "args": extra, "seconds": seconds}
    text = proc.stdout.strip()
    payload = json.loads(text[text.index("{") :]) if "{" in text else {"error": ["no JSON printed"]}
    payload["args"] = extra
    payload["seconds"] = seconds
    return payload


def figures(obj: object, words: tuple[str, ...], prefix: str = "") -> list[tuple[str, float]]:
    """Every numeric entry whose key contains one of ``words``, flattened with its path."""
    found = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, (int, float)) and any(w in str(key) for w in words):
                found.append((path, float(value)))
            else:
                found += figures(value, words, path)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(QUICK_ARGS), default=sorted(QUICK_ARGS), help="benchmark scripts to run"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, noisier figures)")
    mode.add_argument("--gpu", action="store_true", help="the CUDA set at the paper's scale (summary-gpu.*)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds allowed to each benchmark")
    args = parser.parse_args()
    if args.gpu:
        runs = {name: extra for name, extra in GPU_RUNS.items() if name.split("-")[0] in args.only}
    else:
        runs = {name: QUICK_ARGS[name] if args.quick else [] for name in args.only}
    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M:%S"), "benchmarks": {}}
    for name, extra in runs.items():
        print(f"running {name} ...", file=sys.stderr)
        results["benchmarks"][name] = run_one(name.split("-")[0], extra, args.timeout)
    stem, words = ("summary-gpu", GPU_FIGURES) if args.gpu else ("summary", CPU_FIGURES)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=1))
    m = results["machine"]
    cuda = f" (CUDA {m['cuda']})" if "cuda" in m else ""
    lines = [
        "# segloc benchmarks",
        "",
        (
            f"{results['date']}; {m['processor']} x{m['cpu_count']} CPUs, device "
            f"{m['device']}, torch {m['torch']}{cuda}, {m['platform']}."
        ),
        "",
        "| benchmark | figure | value |",
        "|---|---|---|",
    ]
    for name, payload in results["benchmarks"].items():
        if "error" in payload:
            lines.append(f"| {name} | error | {payload['error'][-1]} |")
        for path, value in figures(payload, words):
            lines.append(f"| {name} | {path} | {value:.3g} |")
        lines.append(f"| {name} | wall time (s) | {payload['seconds']} |")
    (args.out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
