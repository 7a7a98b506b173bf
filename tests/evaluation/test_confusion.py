"""Confusion counts: detections matched to ground truth of any class, mix-ups, misses and false alarms."""
from __future__ import annotations

from pathlib import Path

from segloc.data.coco import CocoDataset, ImageRecord, Instance
from segloc.evaluation.confusion import BACKGROUND, MISSED, confusion_counts, mix_ups


def _dataset() -> CocoDataset:
    record = ImageRecord(1, "a.png", Path("a.png"), 100, 100, [
        Instance(1, 1, (0, 0, 20, 20)), Instance(2, 2, (50, 50, 20, 20)), Instance(3, 2, (10, 60, 10, 10))])
    return CocoDataset(Path("gt.json"), Path("."), {1: "Gun", 2: "Knife"}, [record])


def test_mix_ups_misses_and_false_alarms_are_counted():
    results = [
        {"image_id": 1, "category_id": 2, "bbox": [1, 1, 20, 20], "score": 0.9},     # the gun, called a knife
        {"image_id": 1, "category_id": 2, "bbox": [50, 50, 20, 20], "score": 0.8},   # the first knife, right
        {"image_id": 1, "category_id": 1, "bbox": [80, 0, 10, 10], "score": 0.7},    # nothing there
        {"image_id": 1, "category_id": 1, "bbox": [10, 60, 10, 10], "score": 0.2},   # below the score threshold
    ]
    counts = confusion_counts(_dataset(), results)
    assert counts == {"Gun": {"Knife": 1}, "Knife": {"Knife": 1, MISSED: 1}, BACKGROUND: {"Gun": 1}}
    assert mix_ups(counts) == [{"true": "Gun", "detected": "Knife", "count": 1}]


def test_a_box_is_taken_once_by_the_highest_score():
    results = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 20, 20], "score": s} for s in (0.6, 0.9)]
    counts = confusion_counts(_dataset(), results)
    assert counts["Gun"] == {"Gun": 1} and counts[BACKGROUND] == {"Gun": 1}
