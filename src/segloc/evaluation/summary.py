"""Markdown summary of one detector's evaluation (``eval/report.md``): the six metrics per split and task,
AP per class, the most frequent class mix-ups, and where the PR curves are."""
from __future__ import annotations

from segloc.evaluation.coco_eval import METRICS
from segloc.evaluation.confusion import IOU_THRESHOLD, SCORE_THRESHOLD


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def per_class_table(per_class: dict[str, dict[str, dict[str, float | None]]]) -> list[str]:
    """Rows: class; columns: AP and AP50 of each task present."""
    tasks = list(per_class)
    names = list(dict.fromkeys(n for t in tasks for n in per_class[t]))
    lines = ["| class | " + " | ".join(f"{t} AP | {t} AP50" for t in tasks) + " |", "|---" * (1 + 2 * len(tasks)) + "|"]
    for name in names:
        cells = [_cell(per_class[t].get(name, {}).get(m)) for t in tasks for m in ("AP", "AP50")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def evaluation_markdown(metrics: dict) -> str:
    """The report of a metrics dict written by :func:`segloc.detection.evaluate.evaluate_detector`."""
    lines = [f"# Evaluation of init {metrics['init']}", ""]
    for split, entry in metrics["splits"].items():
        tasks = [t for t in ("bbox", "segm") if t in entry]
        lines += [f"## {split} ({entry['images']} images)", "", "| task | " + " | ".join(METRICS) + " |",
                  "|---" * (len(METRICS) + 1) + "|"]
        lines += [f"| {t} | " + " | ".join(_cell(entry[t][m]) for m in METRICS) + " |" for t in tasks]
        lines += ["", "AP per class (- : no ground truth of that class in this split):", ""]
        lines += per_class_table(entry["per_class"])
        lines += ["", f"Class mix-ups (detections scoring {SCORE_THRESHOLD} or more on a box of another class, box "
                      f"IoU {IOU_THRESHOLD} or more):", ""]
        lines += [f"- {m['true']} detected as {m['detected']}: {m['count']}" for m in entry["mix_ups"]] or ["- none"]
        lines += ["", f"Precision-recall curves: [{entry['pr_curves']}]({entry['pr_curves']}); full confusion counts in "
                      "metrics.json.", ""]
    return "\n".join(lines)
