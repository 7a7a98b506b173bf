"""Box-only sets of generated SIXray scans: one boxed item per scan, in the caller's class order."""

from __future__ import annotations

import pytest

from segloc.data.coco import load_coco
from segloc.generator.box_set import write_box_set


def test_box_set_holds_one_boxed_item_per_scan_in_the_given_class_order(tmp_path):
    classes = ("Gun", "Knife", "Wrench")
    dataset = load_coco(write_box_set(tmp_path, classes, 3, seed=4), tmp_path / "images")
    assert dataset.categories == {1: "Gun", 2: "Knife", 3: "Wrench"}
    assert not dataset.has_masks
    assert sorted(dataset.categories[r.instances[0].category_id] for r in dataset.images) == list(classes)
    for record in dataset.images:
        assert len(record.instances) == 1
        x, y, w, h = record.instances[0].bbox
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= record.width and y + h <= record.height


def test_box_set_refuses_classes_the_generator_does_not_draw(tmp_path):
    with pytest.raises(ValueError, match="Pistol"):
        write_box_set(tmp_path, ("Gun", "Pistol"), 1)
