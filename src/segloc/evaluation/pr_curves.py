"""Precision-recall curves at IoU 0.5, one line per class, one panel per task (bbox, segm)."""
from __future__ import annotations

from pathlib import Path

from segloc.evaluation.coco_eval import RECALLS


def plot_pr_curves(curves: dict[str, dict[str, list[float]]], path: Path, title: str = "") -> Path:
    """Draw ``{task: {class: precision at each recall of RECALLS}}`` into a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(curves) or ["bbox"]
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for name, precision in sorted(curves.get(task, {}).items()):
            ax.plot(RECALLS, precision, label=name, linewidth=1.2)
        ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision",
               title=f"{title} {task} PR, IoU 0.5".strip())
        ax.grid(alpha=0.3)
        if curves.get(task):
            ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
