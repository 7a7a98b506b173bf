"""COCO results format and pycocotools metrics: perfect results score 1, degraded ones less, empty 0."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from segloc.data import decode_segmentation, encode_mask, load_pidray
from segloc.evaluation.coco_eval import (
    METRICS,
    coco_metrics,
    evaluate_results,
    ground_truth,
    to_coco_results,
)


def _perfect(dataset) -> list[dict]:
    results = []
    for rec in dataset.images:
        for inst in rec.instances:
            mask = decode_segmentation(inst.segmentation, rec.height, rec.width)
            results.append(
                {
                    "image_id": rec.id,
                    "category_id": inst.category_id,
                    "bbox": list(inst.bbox),
                    "score": 0.9,
                    "segmentation": encode_mask(mask),
                }
            )
    return results


def test_perfect_results_score_one_and_shifted_boxes_less(shapes_root: Path) -> None:
    easy = load_pidray(shapes_root, ("easy",))["easy"]
    gt = ground_truth(easy)
    perfect = evaluate_results(gt, _perfect(easy))
    bbox, segm = perfect["bbox"].metrics, perfect["segm"].metrics
    assert bbox["AP"] == pytest.approx(1.0) and segm["AP"] == pytest.approx(1.0)
    assert set(bbox) == set(METRICS) and bbox["AR1"] < 1.0  # images hold up to 2 objects
    present = {easy.categories[i.category_id] for r in easy.images for i in r.instances}
    for task in ("bbox", "segm"):
        per_class = perfect[task].per_class
        assert set(per_class) == set(easy.categories.values())
        assert all(per_class[n]["AP"] == pytest.approx(1.0) for n in present)
        assert all(per_class[n]["AP"] is None for n in set(per_class) - present)
        assert set(perfect[task].pr_curves) == present
        assert all(curve == [1.0] * 101 for curve in perfect[task].pr_curves.values())
    shifted = [dict(r, bbox=[r["bbox"][0] + 0.3 * r["bbox"][2], *r["bbox"][1:]]) for r in _perfect(easy)]
    worse = coco_metrics(gt, shifted, "bbox")
    assert worse["AP50"] == pytest.approx(1.0) and 0.0 < worse["AP"] < 0.8 and worse["AP75"] == 0.0
    assert coco_metrics(gt, [], "segm") == {name: 0.0 for name in METRICS}


def test_to_coco_results_maps_labels_boxes_and_masks() -> None:
    masks = torch.zeros(2, 1, 20, 30)
    masks[0, 0, 2:8, 3:9] = 0.8
    masks[1, 0, 10:15, 20:28] = 0.4
    output = {
        "boxes": torch.tensor([[3.0, 2.0, 9.0, 8.0], [20.0, 10.0, 28.0, 15.0]]),
        "scores": torch.tensor([0.9, 0.3]),
        "labels": torch.tensor([1, 3]),
        "masks": masks,
    }
    recs = to_coco_results(output, 7, {1: 5, 3: 12}.__getitem__)
    assert [r["category_id"] for r in recs] == [5, 12] and recs[0]["image_id"] == 7
    assert recs[0]["bbox"] == [3.0, 2.0, 6.0, 6.0] and recs[1]["score"] == pytest.approx(0.3)
    first, second = (
        mask_utils.decode(dict(r["segmentation"], counts=r["segmentation"]["counts"].encode())) for r in recs
    )
    assert first.sum() == 36 and first[2:8, 3:9].all()
    assert second.sum() == 0  # probabilities 0.4 < 0.5
    assert isinstance(recs[0]["segmentation"]["counts"], str)


def test_encode_mask_round_trip() -> None:
    mask = (np.random.default_rng(0).random((17, 23)) > 0.5).astype(np.uint8)
    rle = encode_mask(mask)
    assert rle["size"] == [17, 23]
    assert np.array_equal(mask_utils.decode(dict(rle, counts=rle["counts"].encode())), mask)
