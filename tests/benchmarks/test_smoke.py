"""Each benchmark runs at its smallest size and prints one JSON report with the machine it ran on, so the
README's figures stay re-runnable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
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
    "bench_parallel.py": ["--size", "96", "--batch", "1", "--steps", "1", "--rounds", "1", "--threads", "2"],
    "bench_synthesis.py": ["--pairs", "4", "--repeats", "1"],
}


def run_benchmark(script: str, args: list[str], cwd: Path, timeout: int = 300) -> dict:
    """Run one benchmark on one thread; the JSON report it prints (the run must succeed)."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=cwd,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout[done.stdout.index("{") :])


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SMALLEST))
def test_benchmark_prints_a_json_report(script, tmp_path):
    report = run_benchmark(script, SMALLEST[script], tmp_path)
    machine = report.get("machine") or next(v["machine"] for v in report.values() if isinstance(v, dict))
    assert machine["cpu_count"] >= 1 and machine["torch"]


@pytest.mark.slow
def test_inference_benchmark_times_a_run_on_scans(random_detector_runs, generated_tiny, tmp_path):
    scans = generated_tiny[0] / "pidray" / "easy"
    args = [str(random_detector_runs["cascade"]), str(scans), "--batch", "2", "--batches", "1", "--threads", "1"]
    report = run_benchmark("bench_inference.py", [*args, "--proposals", "50"], tmp_path)
    assert report["settings"]["proposals"] == 50 and report["results"]["ratio_to_bare"] > 0
    assert 0 <= report["results"]["detections_per_img"] <= 100


@pytest.mark.slow
def test_sim_to_real_trains_on_generated_and_real_and_scores_real_val(tiny_real, tiny_overrides, tmp_path):
    finetune = [*tiny_overrides["finetune"], "train.batch_size=2"]
    args = ["--real", str(tiny_real), "--out", str(tmp_path / "run"), "--set", "data.cache_side=160"]
    report = run_benchmark("sim_to_real.py", [*args, "--set", f"finetune.overrides={finetune}"], tmp_path, 600)
    for source in ("generated", "real"):
        assert 0 <= report[source]["AP50"] <= 1, report[source]
    train = json.loads((tmp_path / "run" / "data" / "real" / "train.json").read_text())
    generated = json.loads((tmp_path / "run" / "data" / "generated" / "train.json").read_text())
    assert len(generated["images"]) == len(train["images"])  # the same number of scans from each source
    assert report["budget"]["epochs"] == 1 and report["budget"]["image_size"] == 128


def test_batching_benchmark_counts_less_padding_when_grouped(generated_tiny, tmp_path):
    annotations = generated_tiny[0] / "pidray" / "annotations" / "xray_train.json"
    report = run_benchmark("bench_batching.py", [str(annotations), "--size", "160", "--epochs", "3"], tmp_path)
    assert report["scans"] == sum(report["padded_shapes"].values())
    assert report["input_pixels_plain"] >= report["input_pixels_grouped"] >= 1.0


@pytest.mark.slow
def test_realism_evidence_separates_two_kinds_of_scans_and_draws_their_decisive_patches(generated_tiny, tmp_path):
    root = generated_tiny[0]
    pidray, sixray = root / "pidray" / "train", root / "sixray" / "JPEGImage"
    args = [str(pidray), str(sixray), "--n", "24", "--epochs", "15", "--patches", "5", "--out", str(tmp_path / "ev")]
    report = run_benchmark("realism_evidence.py", args, tmp_path)
    assert report["scans"] == {"real": 24, "generated": 24}
    assert report["train_accuracy"] >= 0.8  # grey-belt PIDray scans and white SIXray ones differ at a glance
    assert len(report["most_real_patches"]) == len(report["most_generated_patches"]) == 5
    assert all(p["evidence"] < 0 for p in report["most_real_patches"])
    assert all(p["evidence"] > 0 for p in report["most_generated_patches"])
    sheet = cv2.imread(report["sheet"])
    assert sheet.shape == (2 * 96 + 6, 12 * 96, 3)


def test_embedding_collapse_tells_a_collapsed_head_from_an_untrained_one(tiny_real, tmp_path):
    import torch

    from segloc.pretrain.builder import build_model
    from segloc.pretrain.config import PretrainConfig

    config = PretrainConfig.model_validate(
        {
            "method": "segloc",
            "backbone": {"arch": "resnet18"},
            "head": {"dim": 16, "num_convs": 0, "fc_dim": 32},
            "contrast": {"queue_size": 16},
            "data": {"source": "shards", "shards": "unused"},
        }
    )
    model = build_model(config, [1, 2, 3]).state_dict()
    collapsed = dict(model)
    collapsed["encoder_q.head.proj.weight"] = torch.zeros_like(model["encoder_q.head.proj.weight"])
    collapsed["encoder_q.head.proj.bias"] = torch.ones_like(model["encoder_q.head.proj.bias"])
    paths = []
    for name, state in (("untrained", model), ("collapsed", collapsed)):
        paths.append(tmp_path / f"{name}.pt")
        torch.save({"config": config.model_dump(mode="json"), "model": state, "step": 0}, paths[-1])
    data = tiny_real / "sixray-det"
    args = ["--labelled", str(data / "annotations" / "val.json"), "--images", str(data / "val")]
    args += ["--backgrounds", str(tiny_real / "backgrounds"), "--pairs", "8", "--width", "128"]
    report = run_benchmark("embedding_collapse.py", [*map(str, paths), *args], tmp_path)
    untrained, collapsed_report = (report["models"][str(p)] for p in paths)
    assert untrained["untrained"]["effective_rank"] > 2 and untrained["untrained"]["embedding_std"] > 0.1
    assert collapsed_report["trained"]["embedding_std"] < 0.01 and collapsed_report["trained"]["effective_rank"] < 1.5
    assert collapsed_report["trained"]["positive_distance"] < 1e-4
    assert all(
        0.0 <= r[m]["positive_rank"] <= 1.0 for r in (untrained, collapsed_report) for m in ("untrained", "trained")
    )
    assert collapsed_report["untrained"] == untrained["untrained"] and report["machine"]["cpu_count"] >= 1
