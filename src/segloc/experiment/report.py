"""The experiment report: Table 1 with every init side by side, distance to a plateau, AP against
budget, curves, galleries, timings. It only reads the files the other stages wrote."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from segloc.config import load_config
from segloc.engine.logger import read_metrics
from segloc.evaluation.report import (
    BASELINE,
    PAPER_SPLITS,
    init_group,
    mean_spread,
    read_run,
    to_markdown,
    write_report,
)
from segloc.experiment.budget import budget_series, loss_trend, plot_budget_series
from segloc.experiment.layout import RunLayout
from segloc.experiment.stages import FINISHED_FORMAT
from segloc.pretrain.builder import COLLAPSED_STD, chance_loss
from segloc.pretrain.config import PretrainConfig


def _vs_random(value: float | None, base: float | None, init: str) -> float | None:
    """``value - base`` (random init's figure), None for random init's runs or when either is missing."""
    return None if init_group(init) == BASELINE or value is None or base is None else value - base


def table_value(table: dict, init: str, metric: str, column: str) -> float | None:
    """One cell of Table 1 (e.g. ``"AP50"``, ``"bbox/val"``), None when absent."""
    row = next((r for r in table["rows"] if r["init"] == init and r["metric"] == metric), None)
    return None if row is None else row["values"].get(column)


def _mean_over_splits(values: list[float | None]) -> float | None:
    """The mean of one value per split, None if one is missing."""
    return None if not values or any(v is None for v in values) else sum(values) / len(values)


def mean_ap(table: dict, init: str, task: str = "bbox", splits: tuple[str, ...] = PAPER_SPLITS) -> float | None:
    """AP@[.5:.95] of ``init`` averaged over ``splits`` (None if one is missing)."""
    return _mean_over_splits([table_value(table, init, "AP", f"{task}/{s}") for s in splits])


def summary(table: dict, inits: list[str], splits: tuple[str, ...] = PAPER_SPLITS) -> dict:
    """Mean AP over ``splits`` per init and task, and the difference to random init's (its runs' mean)."""
    random = table["per_init"].get(BASELINE, {})
    out = {}
    for init in inits:
        entry = {}
        for task in ("bbox", "segm"):
            value = mean_ap(table, init, task, splits)
            base = _mean_over_splits([random.get(f"{task}/{s}", {}).get("AP", {}).get("mean") for s in splits])
            entry[task] = value
            entry[f"{task}_vs_random"] = _vs_random(value, base, init)
        out[init] = entry
    return out


def split_summary(table: dict, splits: list[str], metrics: tuple[str, ...] = ("AP50", "AP")) -> dict:
    """Per run of Table 1, split and bbox metric: the value, its difference to the mean of the random-init
    runs, and the random runs' spread (max - min over seeds; None with one seed): the noise to read it
    against."""
    random = table["per_init"].get(BASELINE, {})
    out: dict = {run: {} for run in table["runs"]}
    for row in table["rows"]:
        if row["metric"] not in metrics:
            continue
        for split in splits:
            column = f"bbox/{split}"
            out[row["init"]].setdefault(split, {})[row["metric"]] = {
                "value": row["values"].get(column),
                "vs_random": row["delta_vs_random"].get(column),
                "spread": random.get(column, {}).get(row["metric"], {}).get("spread"),
            }
    return out


def seed_summary(table: dict, splits: list[str], metrics: tuple[str, ...] = ("AP50", "AP")) -> dict:
    """Per init over its seeds (``finetune.seeds``), split and bbox metric: Table 1's ``per_init`` entry
    (runs, mean, spread and the mean's difference to random init's mean)."""
    return {
        init: {s: {m: by_column[f"bbox/{s}"][m] for m in metrics} for s in splits}
        for init, by_column in table["per_init"].items()
    }


def class_summary(run_splits: dict[str, dict], init_of: dict[str, str], splits: list[str]) -> dict:
    """Per class and init: box AP50 averaged over ``splits`` (where the class is present), then over the
    init's runs, with the runs' count and spread and the mean's difference to random init's mean. A mean
    over classes can hide where an init gains: a rare class may move while a common one carries the
    seeds' noise. ``run_splits``: each run's ``splits`` from its metrics file."""
    per_run: dict[str, dict[str, float]] = {}
    for run, data in run_splits.items():
        values: dict[str, list[float]] = {}
        for split in splits:
            for name, entry in data.get(split, {}).get("per_class", {}).get("bbox", {}).items():
                if entry.get("AP50") is not None:
                    values.setdefault(name, []).append(entry["AP50"])
        per_run[run] = {name: sum(v) / len(v) for name, v in values.items()}
    out: dict = {}
    for name in dict.fromkeys(c for classes in per_run.values() for c in classes):
        for init in dict.fromkeys(init_of.values()):
            values = [per_run[r][name] for r, i in init_of.items() if i == init and name in per_run.get(r, {})]
            mean, spread = mean_spread(values)
            out.setdefault(name, {})[init] = {"runs": len(values), "mean": mean, "spread": spread}
        base = out[name].get(BASELINE, {}).get("mean")
        for init, entry in out[name].items():
            entry["vs_random"] = _vs_random(entry["mean"], base, init)
    return out


def _class_lines(per_class: dict, splits: list[str]) -> list[str]:
    """The per-class AP50 table: one row per class, one column per init (mean [spread] and vs random)."""
    inits = list(next(iter(per_class.values())))
    lines = [
        "## Box AP50 per class",
        "",
        f"AP50 of each class averaged over {' / '.join(splits)}, then over each init's runs: mean [spread "
        "of its runs] (difference to random init's mean).",
        "",
        "| class | " + " | ".join(inits) + " |",
        "|---" * (1 + len(inits)) + "|",
    ]
    for name, entries in per_class.items():
        cells = []
        for init in inits:
            e = entries[init]
            spread = "" if e["spread"] is None else f" [{e['spread']:.3f}]"
            delta = "" if e["vs_random"] is None else f" ({_fmt(e['vs_random'], True)})"
            cells.append(f"{_fmt(e['mean'])}{spread}{delta}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines + [""]


def probe_summary(probe: dict) -> dict:
    """Per init: kNN top-1 per split ("val": held-out train images), the box-weighted means over the
    test splits of top-1 and of its per-class mean, and their differences to random init."""
    out = {}
    for init, splits in probe.items():
        tests = [r for split, r in splits.items() if split != "val"] or list(splits.values())
        boxes = max(sum(r["test_boxes"] for r in tests), 1)
        entry = {split: r["top1"] for split, r in splits.items()}
        entry["mean"] = sum(r["top1"] * r["test_boxes"] for r in tests) / boxes
        class_means = [r.get("class_mean") for r in tests]  # absent from probes written before 2026-12-01
        entry["class_mean"] = (
            None if None in class_means else sum(m * r["test_boxes"] for m, r in zip(class_means, tests)) / boxes
        )
        out[init] = entry
    base = out.get(BASELINE, {})
    for init, entry in out.items():
        for key in ("mean", "class_mean"):
            entry[f"{key}_vs_random"] = _vs_random(entry[key], base.get(key), init)
    return out


def _elapsed(stages: dict) -> float | None:
    """Seconds from the earliest stage start (its finish minus its duration) to the latest finish."""
    spans = []
    for s in stages.values():
        if s.get("finished") and s.get("seconds") is not None:
            end = datetime.strptime(s["finished"], FINISHED_FORMAT).timestamp()
            spans.append((end - s["seconds"], end))
    return max(e for _, e in spans) - min(b for b, _ in spans) if spans else None


def _stage_seconds(stage: dict) -> str:
    """A stage's wall time for the stages table, with the part spent before a resume when there is one."""
    carried = stage.get("carried_seconds")
    return f"{stage.get('seconds', '-')} ({carried} before a resume)" if carried else str(stage.get("seconds", "-"))


def _tail_mean(series: list[tuple[int, float]], start: float) -> float | None:
    """Mean of the values logged at steps >= ``start`` (None when there are none)."""
    values = [v for step, v in series if step >= start]
    return sum(values) / len(values) if values else None


def pretext_summary(curves: dict[str, dict], configs: dict[str, PretrainConfig]) -> dict:
    """Per method, loss, contrastive top-1, positive rank and ``std`` averaged over the last fifth of the
    logged steps, beside the loss at chance: whether the pretext was learned with the head still spread."""
    out = {}
    for method, series in curves.items():
        if not series.get("loss"):
            continue
        steps = series["loss"][-1][0]
        start = 0.8 * steps
        loss, chance = _tail_mean(series["loss"], start), chance_loss(configs[method])
        std = _tail_mean(series.get("std", []), start)
        out[method] = {
            "steps": steps,
            "loss": loss,
            "chance": chance,
            "below_chance": (chance - loss) / chance,
            "acc": _tail_mean(series.get("acc", []), start),
            "rank": _tail_mean(series.get("rank", []), start),
            "std": std,
            "collapsed": std is not None and std < COLLAPSED_STD,
        }
    return out


def _pretext_lines(pretext: dict) -> list[str]:
    """The pretraining table of the report."""
    lines = [
        "Means over the last fifth of each run's logged steps. Chance: the loss when the positive key and "
        "the queue's negatives all score alike, ln(1 + queue size) per level; a collapsed head reaches it and "
        "a spread head that has learned nothing sits above it. Positive rank: the share of its negatives each "
        "positive beats, 0.5 at chance whatever the spread. A pretext is learned when the rank rises well above "
        f"0.5 with `std` held away from 0; below {COLLAPSED_STD} the head has collapsed and nothing here "
        "measures learning any more. The rank reads learning only with a slow key encoder (momentum 0.999): "
        "with a fast one the current keys drift from the queued ones and beat them without learning; "
        "`benchmarks/embedding_collapse.py` ranks against views of one encoder instead (docs/real-scans.md).",
        "",
        "| method | steps | loss | chance | below chance | contrastive top-1 | positive rank | std |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method, e in pretext.items():
        std = _fmt(e["std"]) + (" (collapsed)" if e["collapsed"] else "")
        lines.append(
            f"| {method} | {e['steps']} | {e['loss']:.2f} | {e['chance']:.2f} | {100 * e['below_chance']:.1f} % "
            f"| {_fmt(e['acc'])} | {_fmt(e['rank'])} | {std} |"
        )
    return lines + [""]


def _fmt(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "-"
    value = round(value, 3) + 0.0  # no "-0.000"
    return f"{value:+.3f}" if sign else f"{value:.3f}"


def _plot_curves(
    series: dict[str, dict[str, list[tuple[int, float]]]], names: list[str], title: str, path: Path
) -> Path | None:
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


def plateau_notes(layout: RunLayout, runs: list[str], series: dict | None) -> dict[str, str]:
    """Per run, in words: how far its detector is from a plateau (from the budget series when there is
    one, else from the trend of its fine-tuning loss)."""
    notes = {}
    init_of = layout.init_of()
    for run in runs:
        init = init_of.get(run, run)
        entry = series["inits"].get(init) if series else None
        if entry is not None and entry["last_gain"] is not None:
            gain = entry["last_gain"]
            state = "at a plateau" if entry["plateau"] else "not at a plateau"
            notes[run] = (
                f"{state}: the longest budget adds {gain:+.0%} AP over the one before "
                f"(plateau: under {series['plateau_gain']:.0%})"
                + ("" if init == run else f"; {init}'s series, its seeds averaged")
            )
            continue
        trend = loss_trend(layout.finetune_dir(run) / "metrics.csv")
        notes[run] = (
            "distance to a plateau not measured (no budget series)"
            if trend is None
            else f"no budget series; loss {trend:+.0%} over the last fifth of the schedule"
            + (" (still falling: not at a plateau)" if trend < -0.02 else "")
        )
    return notes


def _budget_lines(series: dict, figure: Path | None) -> list[str]:
    """The AP-versus-budget table and figure."""
    lines = [
        "## Box AP against fine-tuning budget",
        "",
        "Each budget is its own schedule (lr steps scaled with it), not a checkpoint of a longer run; "
        f"AP is the mean over {' / '.join(series['splits'])}; random init is the mean of its seeds "
        "[min - max].",
        "",
        "| init | "
        + " | ".join(f"{e:g} ep" for e in next(iter(series["inits"].values()))["epochs"])
        + " | longest vs previous |",
        "|---" * (2 + len(next(iter(series["inits"].values()))["epochs"])) + "|",
    ]
    for init, entry in series["inits"].items():
        cells = [
            f"{v:.3f}" + (f" [{lo:.3f} - {hi:.3f}]" if entry["seeds"] > 1 else "")
            for v, lo, hi in zip(entry["AP"], entry["AP_min"], entry["AP_max"])
        ]
        gain = "-" if entry["last_gain"] is None else f"{entry['last_gain']:+.0%}"
        lines.append(f"| {init} | " + " | ".join(cells) + f" | {gain} |")
    images = next(iter(series["inits"].values()))["images"]
    if all(i is not None for i in images):
        lines += ["", "Images seen per budget: " + ", ".join(f"{i:,}" for i in images) + "."]
    if figure is not None:
        lines += ["", f"![AP against budget](figures/{figure.name})"]
    return lines + [""]


def _seed_lines(per_init: dict, splits: list[str]) -> list[str]:
    """The table of each init's mean over its seeds, with their spread and the mean's lead over random's."""
    lines = [
        "Each init over its seeds (`finetune.seeds`): mean [spread], and the mean's difference to random "
        "init's mean; a difference within the seeds' spread is not a measured effect.",
        "",
        "| init | runs | " + " | ".join(f"{s} {m} | vs random" for s in splits for m in ("AP50", "AP")) + " |",
        "|---" * (2 + 4 * len(splits)) + "|",
    ]
    for init, entry in per_init.items():
        cells = []
        for s in splits:
            for m in ("AP50", "AP"):
                e = entry[s][m]
                spread = "" if e["spread"] is None else f" [{e['spread']:.3f}]"
                cells.append(f"{_fmt(e['mean'])}{spread} | {_fmt(e['vs_random'], True)}")
        lines.append(f"| {init} | {entry[splits[0]]['AP50']['runs']} | " + " | ".join(cells) + " |")
    return lines + [""]


def write_experiment_report(layout: RunLayout, stages: dict) -> Path:
    """Write ``report.md`` and ``report.json`` (and figures) into the run folder from the files the
    stages wrote and their record (``stages``); return report.md."""
    cfg, run, figures = layout.cfg, layout.run, layout.figures
    figures.mkdir(parents=True, exist_ok=True)
    init_of = layout.init_of()
    runs = list(init_of)
    table = write_report([layout.finetune_dir(r) for r in runs], figures)
    splits = [c.split("/")[1] for c in table["columns"] if c.startswith("bbox/")]
    result = summary(table, runs, tuple(splits))
    per_split = split_summary(table, splits)
    per_init = seed_summary(table, splits)
    per_class = class_summary({r: read_run(layout.finetune_dir(r)).splits for r in runs}, init_of, splits)
    series = None
    if cfg.finetune.budgets:
        images = {
            k.split("/", 1)[1]: v.get("outputs", {}).get("images_seen")
            for k, v in stages.items()
            if k.startswith("finetune/")
        }
        series = budget_series(layout, splits, images)
        budget_png = plot_budget_series(series, figures / "ap_vs_budget.png")
        (figures / "ap_vs_budget.json").write_text(json.dumps(series, indent=1), encoding="utf-8")
    plateau = plateau_notes(layout, runs, series)
    pre = {
        m: read_metrics(layout.pretrain_dir(m) / "metrics.csv")
        for m in cfg.pretrain.methods
        if (layout.pretrain_dir(m) / "metrics.csv").is_file()
    }
    fine = {
        r: read_metrics(layout.finetune_dir(r) / "metrics.csv")
        for r in runs
        if (layout.finetune_dir(r) / "metrics.csv").is_file()
    }
    pretext = pretext_summary(
        pre, {m: load_config(layout.pretrain_dir(m) / "config.yaml", PretrainConfig) for m in pre}
    )
    starts = {m: s for m, s in cfg.pretrain.start_from.items() if m in pre}
    pre_png = _plot_curves(pre, ["loss", "acc", "rank", "std"], "pretraining", figures / "pretrain_curves.png")
    fine_png = _plot_curves(fine, ["loss"], "fine-tuning", figures / "finetune_curves.png")
    detections = sorted(str(p.relative_to(run)) for p in layout.detections_dir.glob("*.png"))
    probe_file = layout.probe_file
    probe = probe_summary(json.loads(probe_file.read_text(encoding="utf-8"))) if probe_file.is_file() else {}
    machine = next((s["machine"] for s in stages.values() if "machine" in s), {})
    real = cfg.data.real is not None

    lines = [
        f"# segloc experiment `{cfg.name}`",
        "",
        f"Run folder `{run}`; machine: {machine.get('processor')} x{machine.get('cpu_count')} CPUs, "
        f"device {machine.get('device')}, torch {machine.get('torch')}, {machine.get('platform')}.",
        "",
        f"## Mean AP@[.5:.95] over {' / '.join(splits)}",
        "",
        "| init | bbox AP | vs random | segm AP | vs random |",
        "|---|---|---|---|---|",
    ]
    for init, entry in result.items():
        lines.append(
            f"| {init} | {_fmt(entry['bbox'])} | {_fmt(entry['bbox_vs_random'], True)} | "
            f"{_fmt(entry['segm'])} | {_fmt(entry['segm_vs_random'], True)} |"
        )
    lines += ["", "How far each detector is from a plateau:", ""]
    lines += [f"- {name}: {note}" for name, note in plateau.items()]
    lines += ["", "## Box AP50 and AP per split", ""]
    if BASELINE in init_of.values():
        lines += [
            "Differences are to the mean of the random-init runs; the random seeds' spread (max - min) is "
            "the noise to read them against.",
            "",
            "| init | " + " | ".join(f"{s} {m} | vs random" for s in splits for m in ("AP50", "AP")) + " |",
            "|---" * (1 + 4 * len(splits)) + "|",
        ]
        lines += [
            f"| {name} | "
            + " | ".join(
                f"{_fmt(entry[s][m]['value'])} | {_fmt(entry[s][m]['vs_random'], True)}"
                for s in splits
                for m in ("AP50", "AP")
            )
            + " |"
            for name, entry in per_split.items()
        ]
        spreads = [f"{s} {m} {_fmt(per_split[runs[0]][s][m]['spread'])}" for s in splits for m in ("AP50", "AP")]
        lines += ["", "Random-init seed spread: " + ", ".join(spreads) + ".", ""]
        if len(per_init) < len(runs):
            lines += _seed_lines(per_init, splits)
    else:
        lines += [
            "No random-init run to compare against.",
            "",
            "| init | " + " | ".join(f"{s} {m}" for s in splits for m in ("AP50", "AP")) + " |",
            "|---" * (1 + 2 * len(splits)) + "|",
        ]
        lines += [
            f"| {name} | " + " | ".join(_fmt(entry[s][m]["value"]) for s in splits for m in ("AP50", "AP")) + " |"
            for name, entry in per_split.items()
        ]
        lines.append("")
    if series is not None:
        lines += _budget_lines(series, budget_png)
    if per_class:
        lines += _class_lines(per_class, splits)
    lines += [
        "",
        "## Table 1 (layout of the paper; differences to random init in parentheses)",
        "",
        to_markdown(table),
        "![AP per split](figures/table1_ap.png)",
        "",
    ]
    if probe:
        summary_keys = ("mean", "mean_vs_random", "class_mean", "class_mean_vs_random")
        splits = [k for k in next(iter(probe.values())) if k not in summary_keys]
        lines += [
            "## kNN probe of the backbones (before fine-tuning)",
            "",
            "Class of each test box from its RoI-pooled C4+C5 features, by a weighted "
            f"{cfg.probe.k}-NN vote over the train split's boxes (top-1 accuracy; random init is "
            "the floor; "
            + (
                "`val` is the real val split, the column to tune on"
                if real
                else "`val` is held-out train images, the column to tune pretraining on; mean is over the test splits"
            )
            + "; class mean: the top-1 of each class, averaged over the classes, which a common class "
            "cannot carry).",
            "",
            "| init | " + " | ".join(splits) + " | mean | vs random | class mean | vs random |",
            "|---" * (len(splits) + 5) + "|",
        ]
        lines += [
            f"| {init} | "
            + " | ".join(_fmt(e[s]) for s in splits)
            + f" | {_fmt(e['mean'])} | {_fmt(e['mean_vs_random'], True)}"
            + f" | {_fmt(e['class_mean'])} | {_fmt(e['class_mean_vs_random'], True)} |"
            for init, e in probe.items()
        ]
        lines.append("")
    if pretext or pre_png:
        lines += ["## Pretraining", ""] + (_pretext_lines(pretext) if pretext else [])
        lines += [
            f"{m} started from {source}'s pretrained backbone (`pretrain.start_from`)." for m, source in starts.items()
        ]
        lines += [""] if starts else []
        lines += ["![pretraining curves](figures/pretrain_curves.png)", ""] if pre_png else []
    if fine_png:
        lines += ["## Fine-tuning", "", "![fine-tuning curves](figures/finetune_curves.png)", ""]
    galleries = sorted(figures.glob("pairs_*.png"))
    if galleries:
        lines += ["## Synthesised pairs", ""] + [f"![{p.stem}](figures/{p.name})" for p in galleries] + [""]
    if detections:
        scans = "val scans" if real else "test scans"
        lines += [f"## Detections on {scans}", ""] + [f"![detection]({p})" for p in detections] + [""]
    lines += ["## Stages", "", "| stage | wall time (s) | finished |", "|---|---|---|"]
    lines += [f"| {name} | {_stage_seconds(s)} | {s.get('finished', '-')} |" for name, s in stages.items()]
    total = sum(s.get("seconds", 0) for s in stages.values())  # "pretrain" etc. only close their sub-stages
    elapsed = _elapsed(stages)
    lines += ["", f"Sum of the stages' wall times: {total:.0f} s (stages run side by side each count)."]
    lines += [f"From the first stage's start to the last one's end: {elapsed:.0f} s.", ""] if elapsed else [""]

    layout.report_md.write_text("\n".join(lines), encoding="utf-8")
    layout.report_json.write_text(
        json.dumps(
            {
                "name": cfg.name,
                "machine": machine,
                "summary": result,
                "per_split": per_split,
                "per_init": per_init,
                "per_class": per_class,
                "probe": probe,
                "pretext": pretext,
                "pretrain_start_from": starts,
                "plateau": plateau,
                "budgets": series,
                "table1": table,
                "stages": {k: {"seconds": v.get("seconds"), "finished": v.get("finished")} for k, v in stages.items()},
                "total_seconds": total,
                "elapsed_seconds": elapsed,
                "figures": sorted(str(p.relative_to(run)) for p in figures.rglob("*.png")),
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    return layout.report_md
