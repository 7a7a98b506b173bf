"""Generator throughput on one core: scans/s to render, and to render + encode + write, at ~500x400,
next to a bare baseline measured in the same run (encode + write a same-sized PNG/JPEG of random
pixels). Target: 1,000 scans in under a minute on 2 cores (>= ~8.5 scans/s/core).

Realism (when ../shared/real-dev/backgrounds and ../shared/tools/realism.py exist beside the repository):
the tool's figures for real SIXray negatives against generated ones, next to the goals of the realism
pass, twice: against all real negatives, and against the held-out half that the colour calibration
(``python -m segloc.generator.calibrate``) never reads. The generated ones are the first --realism-n
negatives of ``segloc generate --preset small --seed S`` for each S of --realism-seeds (rendered here exactly
as that command renders them), or the N*.jpg of an existing ``segloc generate`` output given with
--generated. The tool's classifier reads one set of 400 generated scans differently from the next (per-seed
means of one generator 0.69-0.89) and its own draws on one set spread widely too (up to 0.3 apart), so its
figure pools draws over several seeds.
Prints one JSON.

    python benchmarks/bench_generator.py [--scans 60] [--seed 0] [--realism-seeds 8191 9377 10531]
                                         [--realism-runs 12] [--generated OUT] [--skip-realism]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from segloc.data.images import IMAGE_SUFFIXES
from segloc.engine.machine import machine_info
from segloc.generator.calibrate import fitting_half
from segloc.generator.pipeline import run_tasks
from segloc.generator.plan import balanced, sixray_tasks
from segloc.generator.presets import PRESETS
from segloc.generator.scan import ScanPlan, render_scan
from segloc.generator.shapes import PIDRAY_CLASSES
from segloc.generator.writer import write_image

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL_BACKGROUNDS = SHARED / "real-dev" / "backgrounds"
REALISM_TOOL = SHARED / "tools" / "realism.py"
# Seeds of the scans the realism figures are read on, never looked at while the generator was tuned (7079, the
# seed of the figures until 2026-12-02, was read while choosing between generator changes on that day).
REALISM_SEEDS = (8191, 9377, 10531)
# Runs the realism tool with one torch thread (it sets two itself), so that one run per core fits the machine.
ONE_THREAD = (
    "import runpy, sys, torch; torch.set_num_threads(1); torch.set_num_threads = lambda n: None; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _plans(n: int, seed: int) -> list[ScanPlan]:
    """Alternating PIDray (1-2 items, every third hidden) and SIXray (0-2 items) scans."""
    rng = np.random.default_rng(seed)
    stream = balanced(PIDRAY_CLASSES, rng)
    plans = []
    for i in range(n):
        if i % 2 == 0:
            plans.append(ScanPlan("pidray", tuple(next(stream) for _ in range(1 + i % 3 // 2)), hidden=i % 6 == 0))
        else:
            plans.append(ScanPlan("sixray", ("Gun", "Knife")[: i % 3]))
    return plans


def _clock(work) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result) of work()."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def realism_goals(res: dict) -> dict[str, bool]:
    """Whether each figure of the realism tool meets the goal of the realism pass."""
    (white_real, white_gen), (edges_real, edges_gen), (dark_real, dark_gen) = res["white"], res["edges"], res["dark"]
    return {
        "hs_js <= 0.05": res["hs_js"] <= 0.05,
        "edges within 0.8-1.25x real": 0.8 <= edges_gen / edges_real <= 1.25,
        "white within 0.05 of real": abs(white_gen - white_real) <= 0.05,
        "dark within 2x of real": 0.5 <= dark_gen / dark_real <= 2.0,
        "clf_acc <= 0.75": res["clf_acc"] <= 0.75,
    }


def small_negatives(out: Path, seed: int, n: int) -> Path:
    """The first n SIXray negatives of ``segloc generate --preset small --seed seed``, written under `out` as
    that command writes them; returns their folder."""
    tasks = [t for t in sixray_tasks(PRESETS["small"], seed) if t.split == "negative"][:n]
    run_tasks(tasks, out, workers=1)
    return out / "sixray" / "JPEGImage"


def held_out_half(out: Path) -> Path:
    """A folder under `out` linking the real negatives the colour calibration does not fit on."""
    out.mkdir(parents=True)
    scans = [p for p in sorted(REAL_BACKGROUNDS.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    for path in set(scans) - set(fitting_half(scans)):
        (out / path.name).symlink_to(path.resolve())
    return out


def realism(real: Path, images: Path, n: int, runs: int) -> list[dict]:
    """`runs` draws of the realism tool's figures for the real negatives in `real` vs the generated N*.jpg in
    `images`, as many per side (n, or fewer real ones). Its classifier draws its augmentation at random, so every
    run differs; the runs go side by side, one per core, each with one torch thread."""
    n = min(n, sum(1 for p in real.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))  # as many per side
    command = [sys.executable, "-c", ONE_THREAD, str(REALISM_TOOL), str(real), str(images), "--glob", "N*.jpg"]
    command += ["--n", str(n), "--json"]

    def draw(_: int) -> dict:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        return list(pool.map(draw, range(runs)))


def measure_realism(sets: dict[str, Path], real: Path, n: int, runs: int) -> dict:
    """Realism figures of the generated sets (name -> folder of N*.jpg) against the real negatives, pooled over
    the sets: each figure's mean, the classifier's over every draw with its standard error and per-set means, and
    whether each goal is met."""
    start = time.perf_counter()
    by_set = {name: realism(real, images, n, runs) for name, images in sets.items()}
    draws = [d for ds in by_set.values() for d in ds]
    accs = np.array([d["clf_acc"] for d in draws])

    def mean(key: str) -> list[float]:
        return [round(float(v), 4) for v in np.mean([d[key] for d in draws], axis=0)]

    res = {
        "n": draws[0]["n"],
        "hs_js": round(float(np.mean([d["hs_js"] for d in draws])), 3),
        "white": mean("white"),
        "edges": mean("edges"),
        "dark": mean("dark"),
        "clf_acc": round(float(accs.mean()), 3),
    }
    return {
        "real": str(real),
        "scans_per_side": res["n"],
        **res,
        "clf_acc_standard_error": round(float(accs.std(ddof=1) / np.sqrt(len(accs))), 3) if len(accs) > 1 else None,
        "clf_acc_by_seed": {
            name: {"mean": round(float(np.mean([d["clf_acc"] for d in ds])), 3), "draws": [d["clf_acc"] for d in ds]}
            for name, ds in by_set.items()
        },
        "goals_met": realism_goals(res),
        "tool_seconds": round(time.perf_counter() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--realism-seeds",
        type=int,
        nargs="+",
        default=list(REALISM_SEEDS),
        help="seeds of the generated scans the realism tool sees",
    )
    parser.add_argument("--realism-n", type=int, default=400, help="scans per side for the realism tool")
    parser.add_argument("--realism-runs", type=int, default=12, help="runs of the tool's classifier per seed")
    parser.add_argument("--generated", type=Path, help="an existing `segloc generate` output to measure instead")
    parser.add_argument("--skip-realism", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    plans = _plans(args.scans, args.seed)
    render_scan(plans[0], np.random.default_rng(0))  # warm-up: palettes and the detector noise bank

    def render_only() -> list:
        return [render_scan(p, np.random.default_rng([args.seed, i])).image for i, p in enumerate(plans)]

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        def render_and_write() -> None:
            for i, p in enumerate(plans):
                image = render_scan(p, np.random.default_rng([args.seed, i])).image
                write_image(image, root / f"scan_{i:05d}{'.png' if p.style == 'pidray' else '.jpg'}")

        r_wall, r_cpu, images = _clock(render_only)
        w_wall, w_cpu, _ = _clock(render_and_write)
        noise = [np.random.default_rng(i).integers(0, 256, im.shape, dtype=np.uint8) for i, im in enumerate(images)]

        def baseline() -> None:
            for i, (im, p) in enumerate(zip(noise, plans)):
                write_image(im, root / f"base_{i:05d}{'.png' if p.style == 'pidray' else '.jpg'}")

        b_wall, b_cpu, _ = _clock(baseline)
        if args.skip_realism or not (REAL_BACKGROUNDS.is_dir() and REALISM_TOOL.is_file()):
            realism_figures = {
                "skipped": "--skip-realism" if args.skip_realism else f"needs {REAL_BACKGROUNDS} and {REALISM_TOOL}"
            }
        else:
            if args.generated:
                sets = {str(args.generated): args.generated / "sixray" / "JPEGImage"}
                generated = str(args.generated)
            else:
                sets = {
                    str(seed): small_negatives(root / f"realism-{seed}", seed, args.realism_n)
                    for seed in args.realism_seeds
                }
                generated = (
                    f"segloc generate --preset small --seed S for S in {args.realism_seeds} "
                    f"(the first {args.realism_n} negatives of each)"
                )
            held_out = held_out_half(root / "held-out")
            realism_figures = {
                "generated": generated,
                "all_real": measure_realism(sets, REAL_BACKGROUNDS, args.realism_n, args.realism_runs),
                "held_out_real": {
                    **measure_realism(sets, held_out, args.realism_n, args.realism_runs),
                    "real": f"{REAL_BACKGROUNDS}, the half calibrate.fitting_half leaves out",
                },
            }
    n = len(plans)
    mean_pixels = float(np.mean([im.shape[0] * im.shape[1] for im in images]))
    render_rate, write_rate, base_rate = n / r_cpu, n / w_cpu, n / b_cpu

    print(
        json.dumps(
            {
                "benchmark": "generator",
                "scans": n,
                "mean_size_px": round(mean_pixels),
                "render_scans_per_s_per_core": round(render_rate, 2),
                "render_encode_write_scans_per_s_per_core": round(write_rate, 2),
                "baseline_encode_write_random_per_s": round(base_rate, 2),
                "ratio_render_write_vs_baseline_time": round(base_rate / write_rate, 2),
                "encode_write_share_of_total": round(1 - write_rate / render_rate, 3),
                "wall_render_scans_per_s": round(n / r_wall, 2),
                "wall_render_encode_write_scans_per_s": round(n / w_wall, 2),
                "projected_seconds_1000_scans_2_cores": round(1000 / (2 * write_rate), 1),
                "target_met": write_rate >= 8.5,
                "note": "per-core rates use this process's CPU time (robust to other load); wall rates shown too",
                "realism": realism_figures,
                "machine": {
                    **machine_info(),
                    "load_avg_1m": round(os.getloadavg()[0], 2),
                    "numpy": np.__version__,
                    "opencv": cv2.__version__,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
