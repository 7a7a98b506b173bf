"""Which classes a detector mixes up: detections matched to ground-truth boxes of any class.

At a score threshold, each image's detections (highest score first) take the unmatched ground-truth
box they overlap most, at box IoU 0.5 or more, whatever its class. Every ground-truth box ends up
under the class it was detected as, or ``missed``; every unmatched detection counts as a false alarm
(``background``). The off-diagonal cells between real classes are the mix-ups.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
from pycocotools import mask as mask_utils

from segloc.data.coco import CocoDataset

MISSED = "missed"
BACKGROUND = "background"
SCORE_THRESHOLD = 0.5  # segloc detect's default: the detections a user sees
IOU_THRESHOLD = 0.5


def confusion_counts(dataset: CocoDataset, results: Sequence[dict], score_thr: float = SCORE_THRESHOLD,
                     iou_thr: float = IOU_THRESHOLD) -> dict[str, dict[str, int]]:
    """``{true class or "background": {detected class or "missed": count}}`` over the dataset."""
    names = dataset.categories
    by_image: dict[int, list[dict]] = defaultdict(list)
    for det in results:
        if det["score"] >= score_thr:
            by_image[det["image_id"]].append(det)
    counts: dict[str, Counter] = defaultdict(Counter)
    for record in dataset.images:
        truths = [inst for inst in record.instances if not inst.iscrowd]
        dets = sorted(by_image.get(record.id, []), key=lambda d: -d["score"])
        taken = np.zeros(len(truths), dtype=bool)
        if truths and dets:
            ious = mask_utils.iou([d["bbox"] for d in dets], [list(t.bbox) for t in truths], [0] * len(truths))
        for i, det in enumerate(dets):
            found = names.get(det["category_id"], str(det["category_id"]))
            if truths:
                overlap = np.where(taken, -1.0, ious[i])
                j = int(np.argmax(overlap))
                if overlap[j] >= iou_thr:
                    taken[j] = True
                    counts[names[truths[j].category_id]][found] += 1
                    continue
            counts[BACKGROUND][found] += 1
        for j in np.flatnonzero(~taken):
            counts[names[truths[j].category_id]][MISSED] += 1
    return {truth: dict(sorted(row.items())) for truth, row in sorted(counts.items())}


def mix_ups(counts: dict[str, dict[str, int]], top: int = 5) -> list[dict]:
    """The most frequent confusions between two real classes, most frequent first."""
    cells = [{"true": t, "detected": d, "count": n} for t, row in counts.items() for d, n in row.items()
             if t != d and BACKGROUND not in (t, d) and d != MISSED]
    return sorted(cells, key=lambda c: (-c["count"], c["true"], c["detected"]))[:top]
