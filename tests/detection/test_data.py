"""Detection data: targets from COCO records, resize / flip consistency, seeded augmentation, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from segloc.data import load_coco, load_pidray
from segloc.detection import CategoryMap, DetectionDataset, ImageDataset, finetune
from segloc.detection.transforms import (
    Compose,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    ResizeLongSide,
    XrayColourJitter,
    training_transforms,
)
from segloc.errors import DatasetError


def _mask_box(mask: torch.Tensor) -> list[float]:
    ys, xs = torch.nonzero(mask, as_tuple=True)
    return [xs.min().item(), ys.min().item(), xs.max().item() + 1, ys.max().item() + 1]


@pytest.mark.parametrize("flip", [0.0, 1.0])
def test_targets_resized_and_flipped_consistently(shapes_root: Path, flip: float) -> None:
    coco = load_pidray(shapes_root, ("train",))["train"]
    ds = DetectionDataset(coco, CategoryMap.from_dataset(coco), training_transforms(200, flip), masks=True)
    image, target = ds[0]
    assert image.shape == (3, 150, 200) and image.dtype == torch.float32 and 0 <= image.min() <= image.max() <= 1
    record = ds.records[0]
    assert target["labels"].tolist() == [inst.category_id for inst in record.instances]  # ids 1..3 = labels
    assert target["masks"].shape == (len(record.instances), 150, 200) and target["masks"].dtype == torch.uint8
    for box, mask, inst in zip(target["boxes"], target["masks"], record.instances):
        x, y, w, h = (v * 1.25 for v in inst.bbox)
        expected = [200 - (x + w), y, 200 - x, y + h] if flip else [x, y, x + w, y + h]
        assert box.tolist() == pytest.approx(expected, abs=1e-3)
        assert _mask_box(mask) == pytest.approx(box.tolist(), abs=2.5)


def test_augmentation_depends_only_on_seed_epoch_and_index(shapes_root: Path) -> None:
    coco = load_pidray(shapes_root, ("train",))["train"]
    ds = DetectionDataset(coco, CategoryMap.from_dataset(coco), training_transforms(128, 0.5), masks=False, seed=3)
    first = [ds[0][1]["boxes"] for _ in range(2)]
    assert torch.equal(first[0], first[1])
    seen = set()
    for epoch in range(8):
        ds.set_epoch(epoch)
        seen.add(tuple(ds[0][1]["boxes"][0].tolist()))
    assert len(seen) == 2  # flipped and not flipped both occur across epochs


def test_resize_keeps_aspect_and_flip_is_an_involution() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (60, 90, 3), dtype=np.uint8)
    sample = {
        "image": image,
        "boxes": np.array([[10, 5, 40, 30]], np.float32),
        "labels": np.array([1]),
        "masks": np.zeros((1, 60, 90), np.uint8),
    }
    out = ResizeLongSide(45)(sample, rng)
    assert out["image"].shape == (30, 45, 3) and out["masks"].shape == (1, 30, 45)
    assert out["boxes"].tolist() == [[5, 2.5, 20, 15]]
    flip = RandomHorizontalFlip(1.0)
    twice = Compose([flip, flip])(sample, rng)
    assert np.array_equal(twice["image"], image) and np.array_equal(twice["boxes"], sample["boxes"])


def test_vertical_flip_moves_boxes_with_the_pixels() -> None:
    image = np.zeros((60, 90, 3), np.uint8)
    image[5:30, 10:40] = 255
    masks = (image[None, ..., 0] > 0).astype(np.uint8)
    sample = {"image": image, "boxes": np.array([[10, 5, 40, 30]], np.float32), "labels": np.array([1]), "masks": masks}
    out = RandomVerticalFlip(1.0)(sample, np.random.default_rng(0))
    ys, xs = np.nonzero(out["image"][..., 0])
    assert out["boxes"].tolist() == [[10, 30, 40, 55]] == [[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]]
    assert np.array_equal(out["masks"][0], out["image"][..., 0] > 0)
    assert RandomVerticalFlip(0.0)(sample, np.random.default_rng(0)) is sample


def test_xray_colour_jitter_keeps_the_belt_white_and_the_geometry() -> None:
    rng = np.random.default_rng(0)
    image = np.full((40, 60, 3), 255, np.uint8)
    image[10:30, 10:50] = (230, 150, 60)  # an orange (organic) object on the empty belt
    sample = {"image": image, "boxes": np.array([[10, 10, 50, 30]], np.float32), "labels": np.array([1])}
    brightness = []
    for _ in range(20):
        out = XrayColourJitter(0.02, 0.3, 0.5)(sample, rng)
        assert out["image"].shape == image.shape and out["image"].dtype == np.uint8
        assert (out["image"][:5] >= 250).all()  # the belt stays (near) white
        assert np.array_equal(out["boxes"], sample["boxes"])
        brightness.append(float(out["image"][20, 30].mean()))
    assert max(brightness) - min(brightness) > 20  # the object's shade varies from draw to draw
    assert len(training_transforms(64, 0.5).transforms) == 2
    assert len(training_transforms(64, 0.5, vflip=0.5, density=0.3).transforms) == 4


def test_category_map_with_sparse_ids(tmp_path: Path, draw_coco) -> None:
    path = draw_coco(tmp_path, "imgs", "sparse.json", 2, seed=1)
    data = json.loads(path.read_text())
    remap = {1: 4, 2: 9, 3: 12}
    for a in data["annotations"]:
        a["category_id"] = remap[a["category_id"]]
    for c in data["categories"]:
        c["id"] = remap[c["id"]]
    path.write_text(json.dumps(data))
    cats = CategoryMap.from_dataset(load_coco(path, tmp_path / "imgs"))
    assert [cats.label(i) for i in (4, 9, 12)] == [1, 2, 3] and cats.category(3) == 12 and cats.name(2) == "Disc"
    assert CategoryMap.from_dict(cats.to_dict()) == cats


def test_corrupt_image_names_the_file(tmp_path: Path, draw_coco) -> None:
    path = draw_coco(tmp_path, "imgs", "train.json", 2, seed=2)
    (tmp_path / "imgs" / "imgs_001.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    coco = load_coco(path, tmp_path / "imgs")
    ds = DetectionDataset(coco, CategoryMap.from_dataset(coco), training_transforms(64, 0.5), masks=True)
    ds[0]
    with pytest.raises(DatasetError, match="imgs_001.png: cannot decode image"):
        ds[1]


def test_image_size_differing_from_json_is_an_error(tmp_path: Path, draw_coco) -> None:
    path = draw_coco(tmp_path, "imgs", "train.json", 1, seed=2)
    data = json.loads(path.read_text())
    data["images"][0]["width"] = 200
    data["annotations"] = []
    path.write_text(json.dumps(data))
    coco = load_coco(path, tmp_path / "imgs")
    with pytest.raises(DatasetError, match="no image has an annotated"):
        DetectionDataset(coco, CategoryMap.from_dataset(coco), training_transforms(64, 0.5), masks=False)
    with pytest.raises(DatasetError, match=r"imgs_000.png: image is 160x120 but the annotation file says 200x120"):
        ImageDataset.from_coco(coco)[0]


def test_empty_annotation_file_fails_before_training(tmp_path: Path, make_config) -> None:
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "xray_train.json").write_text(
        json.dumps({"images": [], "annotations": [], "categories": []})
    )
    with pytest.raises(DatasetError, match="xray_train.json: the annotation file lists no images"):
        finetune(make_config(tmp_path), tmp_path / "run", progress=False)


def test_box_only_coco_trains_a_box_detector_and_reports_bbox_only(tmp_path: Path, draw_coco, make_config) -> None:
    path = draw_coco(tmp_path, "imgs", "boxes.json", 2, seed=4)
    data = json.loads(path.read_text())
    for a in data["annotations"]:
        del a["segmentation"]
    path.write_text(json.dumps(data))
    source = {"json_path": str(path), "images": str(tmp_path / "imgs")}
    cfg = make_config(
        tmp_path, data={"root": None, "train": source, "test": {"boxes": source}, "workers": 0}, train={"epochs": 1}
    )
    run = finetune(cfg, tmp_path / "run", progress=False)
    metrics = json.loads((run / "eval" / "metrics.json").read_text())["splits"]["boxes"]
    assert "bbox" in metrics and "segm" not in metrics and metrics["images"] == 2
    results = json.loads((run / "eval" / "boxes" / "detections.json").read_text())
    assert all("segmentation" not in r for r in results)
