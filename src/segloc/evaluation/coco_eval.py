"""COCO detection / instance-segmentation metrics with pycocotools, and the COCO results format.

Metrics are the six the paper's Table 1 reports: AP@[.5:.95], AP50, AP75 (maxDets 100) and
AR@1, AR@10, AR@100 (IoU .5:.95), for ``bbox`` and ``segm``; per class, AP and AP50 and the
precision-recall curve at IoU 0.5, read from the same COCOeval run.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from segloc.data import CocoDataset
from segloc.data.masks import encode_mask
from segloc.errors import DatasetError

# metric name -> index in COCOeval.stats
METRICS = {"AP": 0, "AP50": 1, "AP75": 2, "AR1": 6, "AR10": 7, "AR100": 8}
IOU_TYPES = ("bbox", "segm")
RECALLS = [round(r, 2) for r in np.linspace(0.0, 1.0, 101)]  # COCOeval's recall thresholds


@dataclass
class CocoEvaluation:
    """One COCOeval run: the six metrics, per class AP / AP50 (None for a class without ground truth)
    and per class precision at each of :data:`RECALLS` at IoU 0.5 (the PR curve)."""

    metrics: dict[str, float]
    per_class: dict[str, dict[str, float | None]] = field(default_factory=dict)
    pr_curves: dict[str, list[float]] = field(default_factory=dict)


def ground_truth(dataset: CocoDataset) -> COCO:
    """A pycocotools COCO index of a loaded dataset (the records that survived validation)."""
    return coco_from_dict(dataset.to_coco())


def coco_from_dict(data: dict) -> COCO:
    """Build a COCO index from an in-memory dict, without pycocotools' progress prints."""
    gt = COCO()
    gt.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
    return gt


def to_coco_results(
    output: dict[str, torch.Tensor], image_id: int, category_of: Callable[[int], int], mask_thresh: float = 0.5
) -> list[dict]:
    """One image's detector output (boxes xyxy, scores, labels, optional (N, 1, H, W) mask probabilities)
    as COCO result records: bbox xywh, score, category_id and RLE segmentation."""
    boxes = output["boxes"].detach().cpu().numpy()
    scores = output["scores"].detach().cpu().numpy()
    labels = output["labels"].detach().cpu().numpy()
    # thresholded where the masks are (the device), so a quarter of the bytes crosses to the host
    masks = (output["masks"][:, 0] >= mask_thresh).cpu().numpy() if "masks" in output else None
    results = []
    for k in range(len(boxes)):
        x1, y1, x2, y2 = (float(v) for v in boxes[k])
        record = {
            "image_id": int(image_id),
            "category_id": int(category_of(int(labels[k]))),
            "bbox": [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)],
            "score": round(float(scores[k]), 5),
        }
        if masks is not None:
            record["segmentation"] = encode_mask(masks[k])
        results.append(record)
    return results


def coco_evaluation(gt: COCO, results: Sequence[dict], iou_type: str) -> CocoEvaluation:
    """Score ``results`` against ``gt``: overall, per class and the PR curves; zeros without detections."""
    if iou_type not in IOU_TYPES:
        raise ValueError(f"iou_type must be one of {IOU_TYPES}, got {iou_type!r}")
    names = {c["id"]: c["name"] for c in gt.dataset["categories"]}
    present = {a["category_id"] for a in gt.dataset["annotations"]}
    if not results:
        return CocoEvaluation(
            {name: 0.0 for name in METRICS},
            {
                names[c]: {"AP": 0.0 if c in present else None, "AP50": 0.0 if c in present else None}
                for c in sorted(names)
            },
            {names[c]: [0.0] * len(RECALLS) for c in sorted(names) if c in present},
        )
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes([dict(r) for r in results])  # loadRes adds keys to the records it is given
        ev = COCOeval(gt, dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    precision = ev.eval["precision"]  # [IoU threshold, recall, class, area range, max detections]
    iou50 = int(np.argmin(np.abs(ev.params.iouThrs - 0.5)))
    per_class, curves = {}, {}
    for k, cat in enumerate(ev.params.catIds):
        table = precision[:, :, k, 0, -1]
        valid = table[table > -1]
        at50 = table[iou50][table[iou50] > -1]
        per_class[names[cat]] = {
            "AP": float(valid.mean()) if valid.size else None,
            "AP50": float(at50.mean()) if at50.size else None,
        }
        if cat in present:
            curves[names[cat]] = [round(float(max(v, 0.0)), 4) for v in table[iou50]]
    return CocoEvaluation({name: float(ev.stats[i]) for name, i in METRICS.items()}, per_class, curves)


def coco_metrics(gt: COCO, results: Sequence[dict], iou_type: str) -> dict[str, float]:
    """The six Table 1 metrics of ``results`` against ``gt``; all zero when there is no detection."""
    return coco_evaluation(gt, results, iou_type).metrics


def evaluate_results(
    gt: COCO, results: Sequence[dict], iou_types: Sequence[str] = IOU_TYPES
) -> dict[str, CocoEvaluation]:
    """A :class:`CocoEvaluation` per IoU type; ``segm`` needs segmentations in results and ground truth."""
    out = {}
    for iou_type in iou_types:
        if iou_type == "segm" and results and "segmentation" not in results[0]:
            raise ValueError("segm metrics need results with 'segmentation'")
        out[iou_type] = coco_evaluation(gt, results, iou_type)
    return out


def write_json(data: object, path: Path) -> Path:
    """Write JSON (results or metrics) to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def read_results(path: Path | str) -> list[dict]:
    """Read a COCO results json (a list of detection records)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read COCO results: {exc}") from exc
    if not isinstance(data, list):
        raise DatasetError(f"{path}: a COCO results file is a list of detections")
    return data
