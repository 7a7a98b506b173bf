"""Evaluate a detector on test splits: COCO results json per split and one metrics json (pycocotools)."""
from __future__ import annotations

import logging
from pathlib import Path

import torch

from segloc.data import CocoDataset, find_pidray_splits, load_coco, load_pidray
from segloc.data.coco import run_image_check
from segloc.detection.data import ImageDataset
from segloc.detection.inference import Detector, load_detector, predict
from segloc.errors import DatasetError
from segloc.evaluation.coco_eval import evaluate_results, ground_truth, write_json

log = logging.getLogger("segloc")
METRICS_FILE = "metrics.json"
EVAL_DIR = "eval"


def pidray_test_splits(root: Path | str, split: str = "all", skip_bad: bool = False) -> dict[str, CocoDataset]:
    """Load the requested test split(s) of a PIDray root; ``all`` = every split except train."""
    tests = [s for s in find_pidray_splits(root) if s != "train"]
    if not tests:
        raise DatasetError(f"{root}: no test split found (only a training file)")
    if split != "all" and split not in tests:
        raise DatasetError(f"{root}: split {split!r} not found (test splits present: {', '.join(tests)})")
    return load_pidray(root, tuple(tests) if split == "all" else (split,), skip_bad=skip_bad,
                       check_images=run_image_check(skip_bad))


def evaluate_detector(detector: Detector, datasets: dict[str, CocoDataset], out_dir: Path | str,
                      batch_size: int = 2, workers: int = 0) -> dict:
    """Predict every split, write ``<split>/detections.json`` and ``metrics.json``; return the metrics."""
    out_dir = Path(out_dir)
    metrics: dict = {"init": detector.init_name, "splits": {}}
    for split, dataset in datasets.items():
        detector.categories.check_compatible(dataset)
        results = predict(detector, ImageDataset.from_coco(dataset), batch_size, workers)
        write_json(results, out_dir / split / "detections.json")
        iou_types = ("bbox", "segm") if detector.masks and dataset.has_masks else ("bbox",)
        scores = evaluate_results(ground_truth(dataset), results, iou_types)
        metrics["splits"][split] = {"images": len(dataset), "detections": f"{split}/detections.json", **scores}
        log.info("%s: %s", split, ", ".join(f"{t} AP {m['AP']:.3f}" for t, m in scores.items()))
    write_json(metrics, out_dir / METRICS_FILE)
    return metrics


def default_eval_dir(model: Path) -> Path:
    """``RUN/eval`` for a run folder, ``<dir>/eval_<name>`` beside a model file."""
    return model / EVAL_DIR if model.is_dir() else model.parent / f"{EVAL_DIR}_{model.stem}"


def evaluate(model: Path | str, data_root: Path | str | None = None, split: str = "all",
             coco_json: Path | str | None = None, images: Path | str | None = None, out: Path | str | None = None,
             batch_size: int = 2, device: str = "auto", skip_bad: bool = False) -> dict:
    """Evaluate MODEL (run folder or checkpoint) on a PIDray root's test splits or on one COCO json."""
    if (data_root is None) == (coco_json is None):
        raise DatasetError("give either a PIDray root (--data) or a COCO json (--coco with --images)")
    if coco_json is not None:
        if images is None:
            raise DatasetError(f"{coco_json}: --images (the image folder) is required with --coco")
        datasets = {Path(coco_json).stem: load_coco(coco_json, images, skip_bad=skip_bad,
                                                    check_images=run_image_check(skip_bad))}
    else:
        datasets = pidray_test_splits(data_root, split, skip_bad)
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    model = Path(model)
    detector = load_detector(model, dev)
    return evaluate_detector(detector, datasets, Path(out) if out else default_eval_dir(model), batch_size)
