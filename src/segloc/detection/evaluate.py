"""Evaluate a detector on test splits: COCO results json per split, one metrics json (pycocotools; overall,
per class, class mix-ups), PR-curve figures and a Markdown report."""
from __future__ import annotations

import logging
from pathlib import Path

import torch

from segloc.data import CocoDataset, find_pidray_splits, load_annotations, load_pidray
from segloc.data.coco import run_image_check
from segloc.data.pidray import NOT_TEST
from segloc.detection.data import ImageDataset
from segloc.detection.inference import Detector, load_detector, predict
from segloc.errors import DatasetError
from segloc.evaluation.coco_eval import CocoEvaluation, evaluate_results, ground_truth, write_json
from segloc.evaluation.confusion import confusion_counts, mix_ups
from segloc.evaluation.pr_curves import plot_pr_curves
from segloc.evaluation.summary import evaluation_markdown

log = logging.getLogger("segloc")
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.md"
EVAL_DIR = "eval"


def pidray_test_splits(root: Path | str, split: str = "all", skip_bad: bool = False) -> dict[str, CocoDataset]:
    """Load the requested test split(s) of a PIDray root; ``all`` = every split except train and val."""
    tests = [s for s in find_pidray_splits(root) if s not in NOT_TEST]
    if not tests:
        raise DatasetError(f"{root}: no test split found (only a training file)")
    if split != "all" and split not in tests:
        raise DatasetError(f"{root}: split {split!r} not found (test splits present: {', '.join(tests)})")
    return load_pidray(root, tuple(tests) if split == "all" else (split,), skip_bad=skip_bad,
                       check_images=run_image_check(skip_bad))


def score_split(detector: Detector, dataset: CocoDataset, batch_size: int = 2, workers: int = 0,
                progress: bool = True) -> tuple[list[dict], dict[str, CocoEvaluation]]:
    """Predict one split and score it: COCO results (in the dataset's category ids, matched by class
    name) and a :class:`CocoEvaluation` per task."""
    to_dataset = detector.categories.match_by_name(dataset)
    found = predict(detector, ImageDataset.from_coco(dataset), batch_size, workers, progress)
    results = [{**r, "category_id": to_dataset[r["category_id"]]} for r in found if r["category_id"] in to_dataset]
    if len(results) < len(found):
        absent = sorted({detector.categories.names[detector.categories.ids.index(r["category_id"])]
                         for r in found if r["category_id"] not in to_dataset})
        log.info("%s: %d detection(s) of classes the data does not label (%s) left out", dataset.json_path,
                 len(found) - len(results), ", ".join(absent))
    iou_types = ("bbox", "segm") if detector.masks and dataset.has_masks else ("bbox",)
    return results, evaluate_results(ground_truth(dataset), results, iou_types)


def evaluate_detector(detector: Detector, datasets: dict[str, CocoDataset], out_dir: Path | str,
                      batch_size: int = 2, workers: int = 0) -> dict:
    """Predict every split and write ``<split>/detections.json``, ``<split>/pr_curves.png`` (+ its data in
    ``pr_curves.json``), ``metrics.json`` (the six metrics per task, AP per class, confusion counts and
    mix-ups) and ``report.md``; return the metrics."""
    out_dir = Path(out_dir)
    metrics: dict = {"init": detector.init_name, "splits": {}}
    for split, dataset in datasets.items():
        results, scores = score_split(detector, dataset, batch_size, workers)
        write_json(results, out_dir / split / "detections.json")
        curves = {task: ev.pr_curves for task, ev in scores.items()}
        write_json(curves, out_dir / split / "pr_curves.json")
        plot_pr_curves(curves, out_dir / split / "pr_curves.png", split)
        counts = confusion_counts(dataset, results)
        metrics["splits"][split] = {"images": len(dataset), "detections": f"{split}/detections.json",
                                    **{task: ev.metrics for task, ev in scores.items()},
                                    "per_class": {task: ev.per_class for task, ev in scores.items()},
                                    "confusion": counts, "mix_ups": mix_ups(counts),
                                    "pr_curves": f"{split}/pr_curves.png"}
        log.info("%s: %s", split, ", ".join(f"{t} AP {ev.metrics['AP']:.3f}" for t, ev in scores.items()))
    write_json(metrics, out_dir / METRICS_FILE)
    (out_dir / REPORT_FILE).write_text(evaluation_markdown(metrics), encoding="utf-8")
    return metrics


def default_eval_dir(model: Path) -> Path:
    """``RUN/eval`` for a run folder, ``<dir>/eval_<name>`` beside a model file."""
    return model / EVAL_DIR if model.is_dir() else model.parent / f"{EVAL_DIR}_{model.stem}"


def evaluate(model: Path | str, data_root: Path | str | None = None, split: str = "all",
             labels: Path | str | None = None, images: Path | str | None = None, out: Path | str | None = None,
             batch_size: int = 2, device: str = "auto", skip_bad: bool = False,
             classes: Path | str | None = None) -> dict:
    """Evaluate MODEL (run folder or checkpoint) on a PIDray root's test splits or on one labelled set
    (``labels``: a COCO json, a VOC xml folder or a YOLO txt folder, with its ``images``)."""
    if (data_root is None) == (labels is None):
        raise DatasetError("give either a PIDray root (--data) or labels (--labels: COCO json, VOC or YOLO folder)")
    if labels is not None:
        datasets = {Path(labels).stem: load_annotations(labels, images, classes, skip_bad=skip_bad,
                                                        check_images=run_image_check(skip_bad))}
    else:
        datasets = pidray_test_splits(data_root, split, skip_bad)
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    model = Path(model)
    detector = load_detector(model, dev)
    return evaluate_detector(detector, datasets, Path(out) if out else default_eval_dir(model), batch_size)
