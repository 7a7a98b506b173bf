"""The paper's Table 1 from fine-tuning runs: metric rows per init, detection / segmentation per split.

Reads each run's ``eval/metrics.json`` (written by fine-tuning or ``segloc evaluate``), lays the
runs side by side (named by their init: random, supervised, insloc, segloc...), adds the
difference to random init (the mean of its runs, when there are several seeds), and writes Markdown,
JSON and a bar chart. When an init has several runs, a second table gives each init's mean over them
with their spread, the noise to read a difference against; given pairs of inits whose runs share seeds,
a third gives their run-by-run differences with the mean's standard error. AP per class follows.
"""

from __future__ import annotations

import json
import os
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from segloc.errors import SeglocError

METRIC_LABELS = {
    "AP": "AP @ [IoU = 0.5 : 0.95 maxDets = 100]",
    "AP50": "AP @ [IoU = 0.50 maxDets = 100]",
    "AP75": "AP @ [IoU = 0.75 maxDets = 100]",
    "AR1": "AR @ [IoU = 0.5 : 0.95 maxDets = 1]",
    "AR10": "AR @ [IoU = 0.5 : 0.95 maxDets = 10]",
    "AR100": "AR @ [IoU = 0.5 : 0.95 maxDets = 100]",
}
TASKS = {"bbox": "Detection", "segm": "Segmentation"}
PAPER_SPLITS = ("easy", "hard", "hidden")
BASELINE = "random"
AXIS_FLOOR = 0.01  # the AP axis spans at least this, so all-zero bars still show a scale
SEED_SUFFIX = re.compile(r"-seed\d+$")  # an experiment names a further seed of init X "X-seedN"


@dataclass
class RunMetrics:
    """One run's metrics: its report name, where they came from, and metrics per split."""

    name: str
    source: Path
    splits: dict[str, dict]

    def value(self, task: str, split: str, metric: str) -> float | None:
        """One metric of one task on one split; None where the run has none."""
        return self.splits.get(split, {}).get(task, {}).get(metric)


def read_run(path: Path | str) -> RunMetrics:
    """Metrics of a run folder (``eval/metrics.json``), an eval folder, or a metrics json itself;
    ``NAME=PATH`` reports the run as init NAME instead of the init its metrics name."""
    name, sep, rest = str(path).partition("=")
    if sep and name and "/" not in name and not Path(path).exists():
        run = read_run(rest)
        return RunMetrics(name, run.source, run.splits)
    path = Path(path)
    candidates = [path] if path.is_file() else [path / "eval" / "metrics.json", path / "metrics.json"]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise SeglocError(
            f"{path}: no metrics found (looked for {', '.join(str(c) for c in candidates)}); "
            "evaluate the run first with `segloc evaluate`"
        )
    try:
        data = json.loads(found.read_text(encoding="utf-8"))
        return RunMetrics(str(data.get("init", "unknown")), found, dict(data["splits"]))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SeglocError(f"{found}: not a segloc metrics file ({exc})") from exc


def init_group(name: str) -> str:
    """The init a run counts for when runs are averaged: ``random-seed1`` -> ``random``."""
    return SEED_SUFFIX.sub("", name)


def runs_of(runs: list[RunMetrics], init: str) -> list[RunMetrics]:
    """The runs that count for ``init``, in the order given."""
    return [r for r in runs if init_group(r.name) == init]


def mean_spread(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and spread (max - min; None with fewer than two) of the values present."""
    mean = sum(values) / len(values) if values else None
    return mean, (max(values) - min(values) if len(values) > 1 else None)


def init_summary(runs: list[RunMetrics], columns: list[tuple[str, str]]) -> dict:
    """Per init over its runs, column and metric: the number of runs, their mean, spread and the mean's
    difference to random init's mean (None for random init, or without it)."""
    out: dict = {}
    for group in dict.fromkeys(init_group(r.name) for r in runs):
        members = runs_of(runs, group)
        for task, split in columns:
            for metric in METRIC_LABELS:
                cells = [r.value(task, split, metric) for r in members]
                mean, spread = mean_spread([v for v in cells if v is not None])
                entry = {"runs": sum(v is not None for v in cells), "mean": mean, "spread": spread}
                out.setdefault(group, {}).setdefault(f"{task}/{split}", {})[metric] = entry
    for group, by_column in out.items():
        for column, metrics in by_column.items():
            for metric, entry in metrics.items():
                base = out.get(BASELINE, {}).get(column, {}).get(metric, {}).get("mean")
                known = group != BASELINE and entry["mean"] is not None and base is not None
                entry["vs_random"] = entry["mean"] - base if known else None
    return out


def parse_pair(text: str) -> tuple[str, str]:
    """``"segloc:insloc"`` -> ``("segloc", "insloc")``: the inits whose runs are compared run by run."""
    first, sep, second = text.partition(":")
    if not (sep and first and second):
        raise SeglocError(f"paired inits {text!r}: expected FIRST:SECOND, e.g. segloc:insloc")
    return first, second


def paired_differences(runs: list[RunMetrics], columns: list[tuple[str, str]], first: str, second: str) -> dict:
    """Per column and metric, ``first - second`` run by run (the k-th run of each init in the order given,
    so runs with the same pretraining and fine-tuning seeds are paired), their mean and its standard error
    (None with fewer than two pairs): a paired difference removes the noise the two inits share."""
    members = {init: runs_of(runs, init) for init in (first, second)}
    for init, found in members.items():
        if not found:
            raise SeglocError(f"paired inits {first}:{second}: no run of init {init!r} among the runs given")
    if len(members[first]) != len(members[second]):
        raise SeglocError(
            f"paired inits {first}:{second}: {len(members[first])} runs of {first} against "
            f"{len(members[second])} of {second}; give both the same seeds in the same order"
        )
    out: dict = {}
    for task, split in columns:
        for metric in METRIC_LABELS:
            diffs = []
            for a, b in zip(members[first], members[second]):
                va, vb = a.value(task, split, metric), b.value(task, split, metric)
                if va is not None and vb is not None:
                    diffs.append(va - vb)
            stderr = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else None
            entry = {"differences": diffs, "mean": statistics.fmean(diffs) if diffs else None, "stderr": stderr}
            out.setdefault(f"{task}/{split}", {})[metric] = entry
    return out


def _run_folder(run: RunMetrics) -> Path:
    """The run folder a metrics file belongs to: the parent of ``eval/``, else the file's folder."""
    return run.source.parent.parent if run.source.parent.name == "eval" else run.source.parent


def _unique_names(runs: list[RunMetrics]) -> list[str]:
    """A label per run: its init, followed where inits repeat by its run folder's path below the folder
    that holds all runs of that init (``random (random)``, ``random (whole/random)``)."""
    folders = [_run_folder(r).resolve() for r in runs]
    labels = []
    for run, folder in zip(runs, folders):
        same = [f for r, f in zip(runs, folders) if r.name == run.name]
        if len(same) == 1:
            labels.append(run.name)
            continue
        below = folder.relative_to(os.path.commonpath(same))
        labels.append(f"{run.name} ({below.as_posix() if below.parts else folder.name})")
    return labels


def _columns(runs: list[RunMetrics]) -> list[tuple[str, str]]:
    present = [s for r in runs for s in r.splits]
    others = dict.fromkeys(s for s in present if s not in PAPER_SPLITS)
    splits = [s for s in PAPER_SPLITS if s in present] + list(others)
    tasks = [t for t in TASKS if any(t in r.splits.get(s, {}) for r in runs for s in splits)]
    return [(t, s) for t in tasks for s in splits]


def build_table(runs: list[RunMetrics], pairs: Sequence[tuple[str, str]] = ()) -> dict:
    """Table 1 as data: columns (task, split), rows (run, metric) with values and differences to random
    init's mean, ``per_init``: each init's mean over its runs (``init_summary``), and ``paired``: for each
    pair of inits, their run-by-run differences (``paired_differences``)."""
    if not runs:
        raise SeglocError("no runs to report")
    columns = _columns(runs)
    names = _unique_names(runs)
    per_init = init_summary(runs, columns)
    rows = []
    for run, name in zip(runs, names):
        for metric in METRIC_LABELS:
            values, deltas = {}, {}
            for task, split in columns:
                column = f"{task}/{split}"
                value = run.value(task, split, metric)
                values[column] = value
                base = per_init.get(BASELINE, {}).get(column, {}).get(metric, {}).get("mean")
                if init_group(run.name) != BASELINE and value is not None and base is not None:
                    deltas[column] = value - base
            rows.append({"init": name, "metric": metric, "values": values, "delta_vs_random": deltas})
    return {
        "columns": [f"{t}/{s}" for t, s in columns],
        "runs": {n: str(r.source) for r, n in zip(runs, names)},
        "rows": rows,
        "per_init": per_init,
        "paired": {f"{a} - {b}": paired_differences(runs, columns, a, b) for a, b in pairs},
        "per_class": per_class_ap(runs, names, columns),
    }


def per_class_ap(runs: list[RunMetrics], names: list[str], columns: list[tuple[str, str]]) -> dict:
    """``{"task/split": {class: {init: AP or None}}}`` for the columns whose metrics hold AP per class."""
    out: dict = {}
    for task, split in columns:
        cell: dict[str, dict[str, float | None]] = {}
        for run, name in zip(runs, names):
            for cls, values in run.splits.get(split, {}).get("per_class", {}).get(task, {}).items():
                cell.setdefault(cls, {})[name] = values.get("AP")
        if cell:
            out[f"{task}/{split}"] = cell
    return out


def _column_titles(cols: list[str]) -> str:
    """Header cells of the ``task/split`` columns: ``Detection val | Segmentation val``."""
    return " | ".join(f"{TASKS[c.split('/')[0]]} {c.split('/')[1]}" for c in cols)


def _per_init_lines(table: dict) -> list[str]:
    """Each init's mean over its runs, in Table 1's layout: mean [spread] (difference to random's mean)."""
    cols = table["columns"]
    lines = [
        "",
        "Each init over its runs (`X-seedN` runs count as init X): mean [spread, max - min] (difference "
        "to random init's mean); a difference within the spread of the runs is not a measured effect.",
        "",
        "| Init | Runs | Metric | " + _column_titles(cols) + " |",
        "|" + "---|" * (len(cols) + 3),
    ]
    for init, by_column in table["per_init"].items():
        runs = max(e["runs"] for c in cols for e in by_column[c].values())
        for metric, label in METRIC_LABELS.items():
            cells = []
            for c in cols:
                e = by_column[c][metric]
                spread = "" if e["spread"] is None else f" [{e['spread']:.3f}]"
                delta = "" if e["vs_random"] is None else f" ({e['vs_random']:+.3f})"
                cells.append("-" if e["mean"] is None else f"{e['mean']:.3f}{spread}{delta}")
            lines.append(f"| {init} | {runs} | {label} | " + " | ".join(cells) + " |")
    return lines


def _paired_lines(table: dict) -> list[str]:
    """Each pair's run-by-run differences: mean +- its standard error (number of pairs)."""
    cols = table["columns"]
    lines = []
    for pair, by_column in table["paired"].items():
        lines += [
            "",
            f"{pair}, run by run (the k-th run of each, in the order given): mean difference +- its standard "
            "error (pairs); within two standard errors of 0 is not a measured difference.",
            "",
            "| Metric | " + _column_titles(cols) + " |",
            "|" + "---|" * (len(cols) + 1),
        ]
        for metric, label in METRIC_LABELS.items():
            cells = []
            for c in cols:
                e = by_column[c][metric]
                stderr = "" if e["stderr"] is None else f" +- {e['stderr']:.3f}"
                cells.append("-" if e["mean"] is None else f"{e['mean']:+.3f}{stderr} ({len(e['differences'])})")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def to_markdown(table: dict) -> str:
    """Markdown in the layout of the paper's Table 1 (differences to random init's mean in parentheses),
    then each init's mean over its runs when one has several, then the paired differences asked for."""
    cols = table["columns"]
    head1 = "| Init | Metric | " + _column_titles(cols) + " |"
    lines = [head1, "|" + "---|" * (len(cols) + 2)]
    for row in table["rows"]:
        cells = []
        for c in cols:
            v = row["values"][c]
            d = row["delta_vs_random"].get(c)
            cells.append("-" if v is None else f"{v:.3f}" + (f" ({d:+.3f})" if d is not None else ""))
        lines.append(f"| {row['init']} | {METRIC_LABELS[row['metric']]} | " + " | ".join(cells) + " |")
    if len(table["per_init"]) < len(table["runs"]):
        lines += _per_init_lines(table)
    lines += _paired_lines(table)
    inits = list(table["runs"])
    for column, classes in table.get("per_class", {}).items():
        task, split = column.split("/")
        lines += [
            "",
            f"AP @ [IoU = 0.5 : 0.95] per class, {TASKS[task]} {split} (- : no such objects in the split):",
            "",
            "| class | " + " | ".join(inits) + " |",
            "|---" * (len(inits) + 1) + "|",
        ]
        for cls, values in classes.items():
            lines.append(
                f"| {cls} | " + " | ".join("-" if values.get(i) is None else f"{values[i]:.3f}" for i in inits) + " |"
            )
    return "\n".join(lines) + "\n"


def axis_top(highest: float) -> float:
    """Top of the AP axis: a fifth above the highest bar (room for its label), within [AXIS_FLOOR, 1]."""
    return min(1.0, max(AXIS_FLOOR, 1.2 * highest))


def bar_chart(table: dict, path: Path) -> Path:
    """Grouped bars of AP@[.5:.95] per split, one panel per task, one bar per init."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = table["columns"]
    tasks = list(dict.fromkeys(c.split("/")[0] for c in cols))
    ap_rows = [r for r in table["rows"] if r["metric"] == "AP"]
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 3.6), squeeze=False)
    width = 0.8 / max(1, len(ap_rows))
    for ax, task in zip(axes[0], tasks):
        task_cols = [c for c in cols if c.startswith(task + "/")]
        highest = 0.0
        for i, row in enumerate(ap_rows):
            xs = [j + (i - (len(ap_rows) - 1) / 2) * width for j in range(len(task_cols))]
            values = [row["values"][c] or 0.0 for c in task_cols]
            bars = ax.bar(xs, values, width, label=row["init"])
            ax.bar_label(bars, fmt="%.3f", fontsize=6, padding=1)
            highest = max(highest, *values)
        ax.set_xticks(range(len(task_cols)), [c.split("/")[1] for c in task_cols])
        ax.set_title(f"{TASKS[task]} AP@[.5:.95]")
        ax.set_ylim(0, axis_top(highest))
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_report(run_paths: list[Path | str], out: Path | str, pairs: Sequence[tuple[str, str]] = ()) -> dict:
    """Write ``table1.md``, ``table1.json`` and ``table1_ap.png`` into ``out``; return the table. ``pairs``:
    (first, second) inits whose runs are compared run by run."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = build_table([read_run(p) for p in run_paths], pairs)
    (out / "table1.md").write_text(to_markdown(table), encoding="utf-8")
    (out / "table1.json").write_text(json.dumps(table, indent=1), encoding="utf-8")
    bar_chart(table, out / "table1_ap.png")
    return table
