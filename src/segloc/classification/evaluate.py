"""Evaluate a trained CHR model: per-class AP (paper Table 2), CAM pointing accuracy (Table 3),
``metrics.json`` + ``report.md``, and a CAM picture over one scan."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from pydantic import ValidationError
from torch.utils.data import DataLoader

from segloc.classification.chr import CHRNet
from segloc.classification.config import ChrConfig
from segloc.classification.data import SixrayClassification, test_transform
from segloc.data.images import read_rgb
from segloc.data.sixray import SixrayRoot
from segloc.engine import load_checkpoint, resolve_device
from segloc.engine.runfiles import run_model_file
from segloc.errors import ConfigError, SeglocError
from segloc.evaluation.pointing import PointingCounts
from segloc.evaluation.voc_ap import mean_average_precision


def load_trained(path: Path | str, device: str | torch.device = "cpu") -> tuple[CHRNet, ChrConfig, list[str]]:
    """Rebuild the model recorded in a run folder or checkpoint and load its weights."""
    file = run_model_file(path)
    state = load_checkpoint(file)
    if "config" not in state or "model" not in state:
        raise SeglocError(f"{file}: not a segloc CHR checkpoint (no 'config'/'model' entries)")
    config = ChrConfig.from_saved(state["config"])
    class_names = list(state["class_names"])
    model = CHRNet(config.model.arch, len(class_names), config.model.variant)
    model.load_state_dict(state["model"])
    return model.to(device).eval(), config, class_names


@torch.no_grad()
def predict_scores(model: CHRNet, dataset: SixrayClassification, batch_size: int = 32, workers: int = 0) -> np.ndarray:
    """(N, C) test-time logits (mean over levels) in dataset order."""
    device = next(model.parameters()).device
    cuda = device.type == "cuda"
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers, pin_memory=cuda)
    out = [model.predict(images.to(device, non_blocking=cuda)).float().cpu() for images, _, _ in loader]
    return torch.cat(out).numpy()


def class_boxes(root: SixrayRoot, name: str, class_names: list[str]) -> dict[str, list[tuple]]:
    """Ground-truth boxes of an image grouped by class (names matched case-insensitively)."""
    ann = root.annotation(name)
    lookup = {c.lower(): c for c in class_names}
    boxes: dict[str, list[tuple]] = {}
    for obj in ann.objects if ann is not None else []:
        cls = lookup.get(obj.name.lower())
        if cls is not None and obj.box is not None:
            boxes.setdefault(cls, []).append(obj.box)
    return boxes


@torch.no_grad()
def pointing_counts(model: CHRNet, dataset: SixrayClassification, tolerance: float = 0.0) -> PointingCounts:
    """Hits/misses of the level-averaged CAM peak (at full image size) for every boxed (image, class)."""
    device = next(model.parameters()).device
    model.eval()
    counts = PointingCounts(dataset.class_names, tolerance)
    for name in dataset.names:
        boxes = class_boxes(dataset.root, name, dataset.class_names)
        if not boxes:
            continue
        image = read_rgb(dataset.root.image_path(name))
        x = test_transform(image, dataset.size)[None].to(device)
        cams = model.cams(x, size=image.shape[:2])[0].float().cpu().numpy()
        for cls, cls_boxes in boxes.items():
            counts.add(cls, cams[dataset.class_names.index(cls)], cls_boxes)
    return counts


def evaluate_model(
    model: CHRNet, config: ChrConfig, class_names: list[str], data_root: Path | str, subset: str
) -> dict:
    """mAP and pointing accuracy of ``model`` on ``ImageSet/<subset>/test.csv``, as a JSON-able dict."""
    test_set = SixrayClassification(
        data_root, subset, "test", size=config.data.image_size, class_names=class_names, skip_bad=config.data.skip_bad
    )
    scores = predict_scores(model, test_set, config.eval.batch_size, config.data.workers)
    ap, mean_ap = mean_average_precision(scores, test_set.labels.numpy(), config.eval.ap_method)
    counts = pointing_counts(model, test_set, config.eval.pointing_tolerance)
    acc, mean_acc = counts.accuracy()
    positives = (test_set.labels > 0).sum(dim=0).tolist()
    return {
        "arch": config.model.arch,
        "variant": config.model.variant,
        "subset": str(subset),
        "test_images": len(test_set),
        "class_names": class_names,
        "test_positives": positives,
        "positive_rate": [p / len(test_set) for p in positives],
        "ap_method": config.eval.ap_method,
        "ap": dict(zip(class_names, ap)),
        "mAP": mean_ap,
        "pointing_tolerance": config.eval.pointing_tolerance,
        "pointing": dict(zip(class_names, acc)),
        "pointing_mean": mean_acc,
        "pointing_hits": counts.hits,
        "pointing_misses": counts.misses,
    }


def _row(label: str, values: list[float], mean: float) -> str:
    cells = ["-" if np.isnan(v) else f"{100 * v:.2f}" for v in [*values, mean]]
    return f"| {label} | " + " | ".join(cells) + " |"


def report_markdown(metrics: dict) -> str:
    """Paper-style tables: per-class AP + mean (Table 2), per-class pointing accuracy + mean (Table 3)."""
    names = metrics["class_names"]
    label = f"{metrics['arch']}+{metrics['variant'].upper()} (SIXray{metrics['subset']})"
    header = "| Method | " + " | ".join(names) + " | mean |"
    rule = "|---" * (len(names) + 2) + "|"
    ap = [metrics["ap"][n] for n in names]
    acc = [metrics["pointing"][n] for n in names]
    return "\n".join(
        [
            f"# CHR evaluation: {label}",
            "",
            f"Test images: {metrics['test_images']}; positives per class: "
            + ", ".join(f"{n} {p}" for n, p in zip(names, metrics["test_positives"]))
            + ".",
            "",
            f"## Classification average precision (%), {metrics['ap_method']} AP (Table 2 layout)",
            "",
            header,
            rule,
            _row(label, ap, metrics["mAP"]),
            "",
            f"## Pointing accuracy (%), tolerance {metrics['pointing_tolerance']:g} px (Table 3 layout)",
            "",
            header,
            rule,
            _row(label, acc, metrics["pointing_mean"]),
            "",
        ]
    )


def _json_safe(value: object) -> object:
    """NaN (a class without positives or boxes) becomes null, so the file is strict JSON."""
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def write_reports(metrics: dict, out_dir: Path | str) -> None:
    """Write ``metrics.json`` and ``report.md`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_json_safe(metrics), indent=2, allow_nan=False)
    (out_dir / "metrics.json").write_text(text, encoding="utf-8")
    (out_dir / "report.md").write_text(report_markdown(metrics), encoding="utf-8")


def evaluate_run(
    path: Path | str,
    data_root: Path | str,
    subset: str | None = None,
    device: str = "auto",
    out_dir: Path | str | None = None,
    ap_method: str | None = None,
    tolerance: float | None = None,
) -> dict:
    """Evaluate a run folder or checkpoint; reports go to ``out_dir`` (default: the run folder).

    ``subset``, ``ap_method`` and the pointing ``tolerance`` default to the run's config.
    """
    model, config, class_names = load_trained(path, resolve_device(device))
    try:
        if ap_method is not None:
            config.eval.ap_method = ap_method
        if tolerance is not None:
            config.eval.pointing_tolerance = tolerance
    except ValidationError as exc:
        raise ConfigError(f"invalid evaluation option: {exc.errors()[0]['msg']}") from exc
    subset = str(subset if subset is not None else config.data.subset)
    metrics = evaluate_model(model, config, class_names, data_root, subset)
    path = Path(path)
    write_reports(metrics, out_dir or (path if path.is_dir() else path.parent))
    return metrics


@torch.no_grad()
def classify_scan(model: CHRNet, image: np.ndarray, size: int = 224) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (C,) and CAMs (C, H, W) at the scan's own size of one RGB scan, one pass."""
    device = next(model.parameters()).device
    model.eval()
    logits, cams = model.logits_and_cams(test_transform(image, size)[None].to(device), size=image.shape[:2])
    return torch.sigmoid(logits)[0].float().cpu().numpy(), cams[0].float().cpu().numpy()


@torch.no_grad()
def save_cam_picture(
    model: CHRNet, root: Path | str | SixrayRoot, name: str, out: Path | str, class_names: list[str], size: int = 224
) -> Path:
    """One panel per class: the scan with its CAM overlaid, ground-truth boxes, peak and score."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root = root if isinstance(root, SixrayRoot) else SixrayRoot(root)
    image = read_rgb(root.image_path(name))
    probs, cams = classify_scan(model, image, size)
    boxes = class_boxes(root, name, class_names)
    fig, axes = plt.subplots(1, len(class_names), figsize=(3.2 * len(class_names), 3.6), squeeze=False)
    for ax, (c, cls) in zip(axes[0], enumerate(class_names)):
        ax.imshow(image)
        ax.imshow(cams[c], cmap="jet", alpha=0.45)
        for x1, y1, x2, y2 in boxes.get(cls, []):
            ax.add_patch(plt.Rectangle((x1 - 1, y1 - 1), x2 - x1, y2 - y1, fill=False, color="white", lw=1.5))
        row, col = np.unravel_index(int(np.argmax(cams[c])), cams[c].shape)
        ax.plot(col, row, marker="+", color="white", markersize=14, mew=2)
        ax.set_title(f"{cls}: p={probs[c]:.2f}", fontsize=10)
        ax.axis("off")
    fig.suptitle(name)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
