"""AP against fine-tuning budget: where each init stands, and how far every detector is from a plateau.

The series comes from separate schedules (``finetune.budgets``), not from checkpoints of one run, so
each point is a detector trained to the end of its own lr schedule. Random init is drawn as the mean
of its seeds with their range. A detector is called at a plateau when the longest budget adds less
than ``PLATEAU_GAIN`` relative AP over the one before it. Without a series, the fine-tuning loss over
the last fifth of the schedule against the fifth before it says whether training was still improving.
"""

from __future__ import annotations

import json
from pathlib import Path

from segloc.detection.evaluate import EVAL_DIR, METRICS_FILE
from segloc.engine.logger import read_metrics
from segloc.experiment.layout import RunLayout

PLATEAU_GAIN = 0.10
METRICS = ("AP", "AP50")


def _mean_bbox(metrics_file: Path, splits: list[str]) -> dict[str, float] | None:
    """Box AP and AP50 of one run averaged over ``splits`` (None when its metrics are missing)."""
    if not metrics_file.is_file():
        return None
    found = json.loads(metrics_file.read_text(encoding="utf-8"))["splits"]
    if any(s not in found for s in splits):
        return None
    return {m: sum(found[s]["bbox"][m] for s in splits) / len(splits) for m in METRICS}


def budget_series(layout: RunLayout, splits: list[str], images_seen: dict[str, int]) -> dict:
    """Per row (init or random seed): one point per budget with epochs, images seen and mean box AP/AP50;
    per init: the mean over its seeds and their range; the relative gain of the longest budget."""
    rows: dict[str, list[dict]] = {}
    inits: dict[str, str] = {}
    for run in layout.finetune_runs():
        scores = _mean_bbox(layout.finetune_dir(run.name) / EVAL_DIR / METRICS_FILE, splits)
        if scores is None or run.epochs is None:
            continue
        inits[run.row] = run.init
        rows.setdefault(run.row, []).append({"epochs": run.epochs, "images": images_seen.get(run.name), **scores})
    for points in rows.values():
        points.sort(key=lambda p: p["epochs"])
    per_init: dict[str, dict] = {}
    for init in dict.fromkeys(inits.values()):
        members = [rows[r] for r, i in inits.items() if i == init]
        budgets = sorted({p["epochs"] for points in members for p in points})
        entry: dict = {"epochs": budgets, "images": [], "seeds": len(members)}
        for metric in METRICS:
            means, lows, highs = [], [], []
            for b in budgets:
                values = [p[metric] for points in members for p in points if p["epochs"] == b]
                means.append(sum(values) / len(values))
                lows.append(min(values))
                highs.append(max(values))
            entry[metric], entry[f"{metric}_min"], entry[f"{metric}_max"] = means, lows, highs
        entry["images"] = [
            next((p["images"] for points in members for p in points if p["epochs"] == b), None) for b in budgets
        ]
        entry["last_gain"] = last_gain(entry["AP"])
        entry["plateau"] = entry["last_gain"] is not None and entry["last_gain"] < PLATEAU_GAIN
        per_init[init] = entry
    return {"splits": splits, "plateau_gain": PLATEAU_GAIN, "rows": rows, "inits": per_init}


def last_gain(values: list[float]) -> float | None:
    """Relative gain of the last value over the one before it (None with fewer than two, or from zero)."""
    if len(values) < 2 or values[-2] <= 0:
        return None
    return (values[-1] - values[-2]) / values[-2]


def loss_trend(metrics_csv: Path) -> float | None:
    """Relative change of the mean training loss over the last fifth of the logged steps against the
    fifth before it (negative: still falling); None when too few steps were logged."""
    if not metrics_csv.is_file():
        return None
    points = read_metrics(metrics_csv).get("loss", [])
    n = len(points) // 5
    if n < 1:
        return None
    last = sum(v for _, v in points[-n:]) / n
    before = sum(v for _, v in points[-2 * n : -n]) / n
    return None if before <= 0 else (last - before) / before


def plot_budget_series(series: dict, path: Path) -> Path | None:
    """Mean box AP against fine-tuning images seen, per init (log x), random init's seed range shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inits = series["inits"]
    if not any(len(e["epochs"]) > 1 for e in inits.values()):
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, metric in zip(axes, METRICS):
        for init, entry in inits.items():
            xs = [i if i is not None else e for i, e in zip(entry["images"], entry["epochs"])]
            ax.plot(xs, entry[metric], marker="o", label=init)
            if entry["seeds"] > 1:
                ax.fill_between(xs, entry[f"{metric}_min"], entry[f"{metric}_max"], alpha=0.2)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("fine-tuning images seen")
        ax.set_ylabel(f"box {metric} (mean of {' / '.join(series['splits'])})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
