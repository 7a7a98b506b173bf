"""The PIDray side of the tiny preset: COCO json structure, exact boxes, split rules, class coverage."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools.coco import COCO

from segloc.generator.shapes import PIDRAY_CLASSES

SPLITS = {
    "train": "xray_train.json",
    "easy": "xray_test_easy.json",
    "hard": "xray_test_hard.json",
    "hidden": "xray_test_hidden.json",
}


def load(out: Path, split: str) -> COCO:
    return COCO(str(out / "pidray" / "annotations" / SPLITS[split]))


def test_coco_json_structure_and_images(tiny):
    out, summary = tiny
    for split, name in SPLITS.items():
        raw = json.loads((out / "pidray" / "annotations" / name).read_text())
        assert set(raw) >= {"images", "annotations", "categories"}
        assert [(c["id"], c["name"], c["supercategory"]) for c in raw["categories"]] == [
            (i + 1, n, "prohibited") for i, n in enumerate(PIDRAY_CLASSES)
        ]
        assert len(raw["images"]) == summary["pidray"][split]["images"] > 0
        assert len({im["id"] for im in raw["images"]}) == len(raw["images"])
        for im in raw["images"]:
            assert (
                "/" not in im["file_name"] and im["file_name"].startswith("xray_") and im["file_name"].endswith(".png")
            )
            with Image.open(out / "pidray" / split / im["file_name"]) as pil:
                assert pil.size == (im["width"], im["height"]) and pil.mode == "RGB"
            assert 440 <= im["width"] <= 560 and 340 <= im["height"] <= 460
        for ann in raw["annotations"]:
            assert ann["iscrowd"] == 0 and 1 <= ann["category_id"] <= 12
            assert len(ann["bbox"]) == 4 and ann["bbox"][2] > 0 and ann["bbox"][3] > 0
            assert ann["segmentation"] and all(len(p) >= 6 and len(p) % 2 == 0 for p in ann["segmentation"])


def test_boxes_are_tight_boxes_of_the_masks(tiny):
    out, _ = tiny
    checked = 0
    for split in SPLITS:
        coco = load(out, split)
        for ann in coco.loadAnns(coco.getAnnIds()):
            mask = coco.annToMask(ann)
            ys, xs = np.nonzero(mask)
            assert len(xs) == ann["area"]
            x, y, w, h = ann["bbox"]
            assert (x, y, w, h) == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
            checked += 1
    assert checked > 100


def test_items_per_scan_follow_the_split_rules(tiny):
    out, _ = tiny
    for split, rule in (
        ("easy", lambda n: n == 1),
        ("hard", lambda n: n >= 2),
        ("hidden", lambda n: n >= 1),
        ("train", lambda n: 1 <= n <= 4),
    ):
        coco = load(out, split)
        counts = [len(coco.getAnnIds(imgIds=[i])) for i in coco.getImgIds()]
        assert all(rule(n) for n in counts), (split, counts)


def test_every_class_appears_in_train_and_in_each_test_split(tiny):
    out, _ = tiny
    for split in SPLITS:
        coco = load(out, split)
        present = Counter(coco.cats[a["category_id"]]["name"] for a in coco.loadAnns(coco.getAnnIds()))
        assert set(present) == set(PIDRAY_CLASSES), (split, present)


def test_hidden_items_are_less_visible_than_easy_ones(tiny):
    """Hidden items are buried under clutter or wire: the scan is darker over them than over easy items."""
    out, _ = tiny

    def mean_darkness(split: str) -> float:
        coco = load(out, split)
        values = []
        for ann in coco.loadAnns(coco.getAnnIds()):
            info = coco.imgs[ann["image_id"]]
            gray = np.asarray(Image.open(out / "pidray" / split / info["file_name"]).convert("L"), np.float32)
            x, y, w, h = ann["bbox"]
            ring = np.zeros(gray.shape, bool)
            ring[max(y - 15, 0) : y + h + 15, max(x - 15, 0) : x + w + 15] = True
            ring[y : y + h, x : x + w] = False
            values.append(255 - gray[ring].mean())
        return float(np.mean(values))

    assert mean_darkness("hidden") > mean_darkness("easy")
