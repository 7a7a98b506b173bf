"""The experiment report: Table 1 with every init side by side, curves, galleries, timings."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from segloc.engine.logger import read_metrics
from segloc.evaluation.report import PAPER_SPLITS, to_markdown, write_report

if TYPE_CHECKING:
    from segloc.experiment.pipeline import Experiment


def mean_ap(table: dict, init: str, task: str = "bbox") -> float | None:
    """AP@[.5:.95] of ``init`` averaged over the paper's three test splits (None if one is missing)."""
    row = next((r for r in table["rows"] if r["init"] == init and r["metric"] == "AP"), None)
    if row is None:
        return None
    values = [row["values"].get(f"{task}/{s}") for s in PAPER_SPLITS]
    return None if any(v is None for v in values) else sum(values) / len(values)


def summary(table: dict, inits: list[str]) -> dict:
    """Mean AP over easy/hard/hidden per init and task, and the difference to random init."""
    out = {}
    for init in inits:
        entry = {}
        for task in ("bbox", "segm"):
            value, base = mean_ap(table, init, task), mean_ap(table, "random", task)
            entry[task] = value
            entry[f"{task}_vs_random"] = None if value is None or base is None or init == "random" else value - base
        out[init] = entry
    return out


def probe_summary(probe: dict) -> dict:
    """Per init: kNN top-1 per split ("val": held-out train images), the box-weighted mean over the
    test splits and its difference to random init."""
    out = {}
    for init, splits in probe.items():
        tests = [r for split, r in splits.items() if split != "val"]
        boxes = sum(r["test_boxes"] for r in tests)
        entry = {split: r["top1"] for split, r in splits.items()}
        entry["mean"] = sum(r["top1"] * r["test_boxes"] for r in tests) / max(boxes, 1)
        out[init] = entry
    base = out.get("random", {}).get("mean")
    for init, entry in out.items():
        entry["mean_vs_random"] = None if base is None or init == "random" else entry["mean"] - base
    return out


def _fmt(value: float | None, sign: bool = False) -> str:
    return "-" if value is None else (f"{value:+.3f}" if sign else f"{value:.3f}")


def _plot_curves(series: dict[str, dict[str, list[tuple[int, float]]]], names: list[str], title: str,
                 path: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [n for n in names if any(n in s for s in series.values())]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.2), squeeze=False)
    for ax, name in zip(axes[0], panels):
        for run, metrics in series.items():
            if name in metrics:
                steps, values = zip(*metrics[name])
                ax.plot(steps, values, label=run)
        ax.set_title(f"{title}: {name}")
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _draw_detections(exp: Experiment, figures: Path) -> list[str]:
    """Detections of the SegLoc-initialised detector (else the first init) on a few test scans."""
    from segloc.detection.inference import detect_files
    from segloc.data.pidray import find_pidray_splits
    from segloc.data.coco import load_coco

    n = exp.cfg.report.detection_images
    if n == 0:
        return []
    inits = exp.cfg.finetune.inits
    init = "segloc" if "segloc" in inits else inits[0]
    splits = find_pidray_splits(exp.pidray)
    images = []
    for split in PAPER_SPLITS:
        if split in splits:
            ds = load_coco(*splits[split], check_images="none")
            images += [r.path for r in ds.images[: max(1, n // 3)]]
    out_dir = figures / "detections"
    detect_files(exp.finetune_dir(init), images[:n], figures / "detections.json", draw_dir=out_dir,
                 score_thr=exp.cfg.report.score_thr)
    return sorted(str(p.relative_to(exp.run)) for p in out_dir.glob("*.png"))


def write_experiment_report(exp: Experiment) -> Path:
    """Write ``report.md`` and ``report.json`` (and figures) into the run folder; return report.md."""
    run, figures = exp.run, exp.run / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    inits = exp.cfg.finetune.inits
    table = write_report([exp.finetune_dir(i) for i in inits], figures)
    result = summary(table, inits)
    pre = {m: read_metrics(exp.pretrain_dir(m) / "metrics.csv") for m in exp.cfg.pretrain.methods
           if (exp.pretrain_dir(m) / "metrics.csv").is_file()}
    fine = {i: read_metrics(exp.finetune_dir(i) / "metrics.csv") for i in inits
            if (exp.finetune_dir(i) / "metrics.csv").is_file()}
    pre_png = _plot_curves(pre, ["loss", "acc"], "pretraining", figures / "pretrain_curves.png")
    fine_png = _plot_curves(fine, ["loss"], "fine-tuning", figures / "finetune_curves.png")
    detections = _draw_detections(exp, figures)
    probe_file = run / "probe.json"
    probe = probe_summary(json.loads(probe_file.read_text(encoding="utf-8"))) if probe_file.is_file() else {}
    stages = exp.record.data
    machine = next((s["machine"] for s in stages.values() if "machine" in s), {})

    lines = [f"# segloc experiment `{exp.cfg.name}`", "",
             f"Run folder `{run}`; machine: {machine.get('processor')} x{machine.get('cpu_count')} CPUs, "
             f"device {machine.get('device')}, torch {machine.get('torch')}, {machine.get('platform')}.", "",
             "## Mean AP@[.5:.95] over easy / hard / hidden", "",
             "| init | bbox AP | vs random | segm AP | vs random |", "|---|---|---|---|---|"]
    for init, entry in result.items():
        lines.append(f"| {init} | {_fmt(entry['bbox'])} | {_fmt(entry['bbox_vs_random'], True)} | "
                     f"{_fmt(entry['segm'])} | {_fmt(entry['segm_vs_random'], True)} |")
    lines += ["", "## Table 1 (layout of the paper; differences to random init in parentheses)", "",
              to_markdown(table), "![AP per split](figures/table1_ap.png)", ""]
    if probe:
        splits = [k for k in next(iter(probe.values())) if k not in ("mean", "mean_vs_random")]
        lines += ["## kNN probe of the backbones (before fine-tuning)", "",
                  "Class of each test box from its RoI-pooled C4+C5 features, by a weighted "
                  f"{exp.cfg.probe.k}-NN vote over the train split's boxes (top-1 accuracy; random init is "
                  "the floor; `val` is held-out train images, the column to tune pretraining on; mean is "
                  "over the test splits).", "",
                  "| init | " + " | ".join(splits) + " | mean | vs random |", "|---" * (len(splits) + 3) + "|"]
        lines += [f"| {init} | " + " | ".join(_fmt(e[s]) for s in splits) +
                  f" | {_fmt(e['mean'])} | {_fmt(e['mean_vs_random'], True)} |" for init, e in probe.items()]
        lines.append("")
    if pre_png:
        lines += ["## Pretraining", "", "![pretraining curves](figures/pretrain_curves.png)", ""]
    if fine_png:
        lines += ["## Fine-tuning", "", "![fine-tuning curves](figures/finetune_curves.png)", ""]
    galleries = sorted(figures.glob("pairs_*.png"))
    if galleries:
        lines += ["## Synthesised pairs", ""] + [f"![{p.stem}](figures/{p.name})" for p in galleries] + [""]
    if detections:
        lines += ["## Detections on test scans", ""] + [f"![detection]({p})" for p in detections] + [""]
    lines += ["## Stages", "", "| stage | wall time (s) | finished |", "|---|---|---|"]
    lines += [f"| {name} | {s.get('seconds', '-')} | {s.get('finished', '-')} |" for name, s in stages.items()]
    total = sum(s.get("seconds", 0) for s in stages.values())  # "pretrain" etc. only close their sub-stages
    lines += ["", f"Total wall time of the stages: {total:.0f} s.", ""]

    (run / "report.md").write_text("\n".join(lines), encoding="utf-8")
    (run / "report.json").write_text(json.dumps({
        "name": exp.cfg.name, "machine": machine, "summary": result, "probe": probe, "table1": table,
        "stages": {k: {"seconds": v.get("seconds"), "finished": v.get("finished")} for k, v in stages.items()},
        "total_seconds": total,
        "figures": sorted(str(p.relative_to(run)) for p in figures.rglob("*.png")),
    }, indent=1), encoding="utf-8")
    return run / "report.md"
