"""Run every benchmark of the project and write one JSON + Markdown summary.

Each ``bench_*.py`` prints one JSON object (figures and their ratios to a bare baseline measured
in the same run). This script runs them one after the other in fresh processes, so they do not
compete for the cores, and collects their outputs with the machine they ran on.

    python benchmarks/run_all.py [--out benchmarks/results] [--only generator synthesis ...] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
QUICK_ARGS = {
    "generator": ["--scans", "20"],
    "synthesis": ["--pairs", "20", "--repeats", "1"],
    "pretrain": ["--repeats", "2"],
    "detection": ["--iters", "2", "--kinds", "cascade"],
    "chr": ["--iters", "2", "--archs", "resnet18"],
}


def machine() -> dict:
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"}
    return info


def run_one(name: str, extra: list[str]) -> dict:
    """Run ``bench_<name>.py`` and parse the JSON object it prints last."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(HERE / f"bench_{name}.py"), *extra],
                          capture_output=True, text=True, check=False)
    seconds = round(time.perf_counter() - start, 1)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"], "seconds": seconds}
    text = proc.stdout.strip()
    payload = json.loads(text[text.index("{"):]) if "{" in text else {"error": "no JSON printed"}
    payload["seconds"] = seconds
    return payload


def ratios(obj: object, prefix: str = "") -> list[tuple[str, float]]:
    """Every numeric entry whose key mentions a ratio or an overhead, flattened with its path."""
    found = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, (int, float)) and ("ratio" in str(key) or "overhead" in str(key)):
                found.append((path, float(value)))
            else:
                found += ratios(value, path)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--only", nargs="+", choices=sorted(QUICK_ARGS), default=sorted(QUICK_ARGS))
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, noisier figures)")
    args = parser.parse_args()
    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M:%S"), "benchmarks": {}}
    for name in args.only:
        print(f"running bench_{name}.py ...", file=sys.stderr)
        results["benchmarks"][name] = run_one(name, QUICK_ARGS[name] if args.quick else [])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(results, indent=1))
    m = results["machine"]
    lines = ["# segloc benchmarks", "", f"{results['date']}; {m['processor']} x{m['cpu_count']} CPUs, device "
             f"{m['device']}, torch {m['torch']}, {m['platform']}.", "",
             "| benchmark | figure | value |", "|---|---|---|"]
    for name, payload in results["benchmarks"].items():
        if "error" in payload:
            lines.append(f"| {name} | error | {payload['error']} |")
        for path, value in ratios(payload):
            lines.append(f"| {name} | {path} | {value:.3g} |")
        lines.append(f"| {name} | wall time (s) | {payload['seconds']} |")
    (args.out / "summary.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
