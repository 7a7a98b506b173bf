"""Each benchmark runs at its smallest size and prints one JSON report with the machine it ran on, so the
README's figures stay re-runnable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SMALLEST = {
    "bench_chr.py": ["--archs", "resnet18", "--size", "64", "--batch", "2", "--iters", "1", "--threads", "1"],
    "bench_detection.py": ["--size", "96", "--batch", "1", "--iters", "1", "--kinds", "cascade", "--threads", "1"],
    "bench_generator.py": ["--scans", "4", "--skip-realism"],
    "bench_pretrain.py": [
        "--size",
        "64",
        "--batch",
        "2",
        "--queue",
        "16",
        "--classes",
        "3",
        "--repeats",
        "1",
        "--threads",
        "1",
    ],
    "bench_synthesis.py": ["--pairs", "4", "--repeats", "1"],
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SMALLEST))
def test_benchmark_prints_a_json_report(script, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *SMALLEST[script]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout[done.stdout.index("{") :])
    machine = report.get("machine") or next(v["machine"] for v in report.values() if isinstance(v, dict))
    assert machine["cpu_count"] >= 1 and machine["torch"]


@pytest.mark.slow
def test_inference_benchmark_times_a_run_on_scans(random_detector_runs, generated_tiny, tmp_path):
    scans = generated_tiny[0] / "pidray" / "easy"
    args = [str(random_detector_runs["cascade"]), str(scans), "--batch", "2", "--batches", "1", "--threads", "1"]
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_inference.py"), *args, "--proposals", "50"],
        cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["settings"]["proposals"] == 50 and report["results"]["ratio_to_bare"] > 0
    assert 0 <= report["results"]["detections_per_img"] <= 100
