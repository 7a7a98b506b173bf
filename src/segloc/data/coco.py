"""COCO instance json (PIDray and any other COCO file): images, boxes, polygon / RLE masks.

Category names and ids are read from the file, never assumed. Box-only files (no
``segmentation``) load too; their instances simply have no mask.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Literal

import numpy as np
from pycocotools import mask as mask_utils

from segloc.data.images import image_size
from segloc.data.paths import resolve_inside
from segloc.errors import BadRecords, DatasetError

ImageCheck = Literal["none", "exists", "header"]
BOX_TOLERANCE = 1.0  # pixels a box may overhang the image border (annotation tools round)


@dataclass(frozen=True)
class Instance:
    """One labelled object: COCO box [x, y, w, h], category id and optional mask."""

    id: int
    category_id: int
    bbox: tuple[float, float, float, float]
    segmentation: list[list[float]] | dict | None = None
    area: float = 0.0
    iscrowd: int = 0

    @property
    def box_xyxy(self) -> tuple[float, float, float, float]:
        x, y, w, h = self.bbox
        return (x, y, x + w, y + h)

    @property
    def has_mask(self) -> bool:
        return bool(self.segmentation)


@dataclass
class ImageRecord:
    """One image of a COCO file with its resolved path and its instances."""

    id: int
    file_name: str
    path: Path
    width: int
    height: int
    instances: list[Instance] = field(default_factory=list)


@dataclass
class CocoDataset:
    """A loaded, validated COCO instance file."""

    json_path: Path
    image_root: Path
    categories: dict[int, str]
    images: list[ImageRecord]

    def __len__(self) -> int:
        return len(self.images)

    def __iter__(self) -> Iterator[ImageRecord]:
        return iter(self.images)

    @property
    def category_ids(self) -> list[int]:
        return sorted(self.categories)

    @property
    def has_masks(self) -> bool:
        return any(inst.has_mask for rec in self.images for inst in rec.instances)

    def instance_mask(self, record: ImageRecord, instance: Instance) -> np.ndarray:
        """Rasterise an instance's mask to a (H, W) uint8 array of 0/1."""
        if not instance.has_mask:
            raise DatasetError(f"{self.json_path}: annotation {instance.id} has no segmentation")
        return decode_segmentation(instance.segmentation, record.height, record.width)


def decode_segmentation(segmentation: list[list[float]] | dict, height: int, width: int) -> np.ndarray:
    """Polygons, uncompressed or compressed RLE -> (H, W) uint8 mask."""
    if isinstance(segmentation, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation["counts"], list):
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = dict(segmentation)
        if isinstance(rle["counts"], str):
            rle["counts"] = rle["counts"].encode("ascii")
    return mask_utils.decode(rle).astype(np.uint8)


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise DatasetError(f"{path}: annotation file not found")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
        raise DatasetError(f"{path}: not a COCO instance file (needs 'images' and 'annotations')")
    if not data["images"]:
        raise DatasetError(f"{path}: the annotation file lists no images")
    if not data.get("categories"):
        raise DatasetError(f"{path}: the annotation file lists no categories")
    return data


def _check_segmentation(seg: object, height: int, width: int) -> str | None:
    """Return a problem description, or None when the segmentation is usable."""
    if isinstance(seg, list):
        for poly in seg:
            if not isinstance(poly, list) or len(poly) < 6 or len(poly) % 2:
                n = len(poly) // 2 if isinstance(poly, list) else 0
                return f"polygon with under 3 points ({n} points)"
        return None
    if isinstance(seg, dict):
        if "counts" not in seg or "size" not in seg:
            return "RLE without 'counts' or 'size'"
        if list(seg["size"]) != [height, width]:
            return f"RLE size {seg['size']} differs from the image size [{height}, {width}]"
        return None
    return f"segmentation of unsupported type {type(seg).__name__}"


def _check_box(bbox: object, width: int, height: int) -> str | None:
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        return f"bbox {bbox!r} is not [x, y, w, h]"
    x, y, w, h = (float(v) for v in bbox)
    if w <= 0 or h <= 0:
        return f"bbox {list(bbox)} has no area"
    t = BOX_TOLERANCE
    if x < -t or y < -t or x + w > width + t or y + h > height + t:
        return f"bbox {list(bbox)} lies outside the {width}x{height} image"
    return None


def load_coco(
    json_path: Path | str,
    image_root: Path | str,
    skip_bad: bool = False,
    check_images: ImageCheck = "exists",
) -> CocoDataset:
    """Load and validate a COCO instance file whose image file names are relative to ``image_root``.

    Every problem raises a :class:`DatasetError` naming the file and the record, unless
    ``skip_bad``: then broken annotations (or images) are dropped and one warning gives the count.
    """
    json_path, image_root = Path(json_path), Path(image_root)
    data = _read_json(json_path)
    bad = BadRecords(json_path, skip_bad)
    categories = {int(c["id"]): str(c["name"]) for c in data["categories"]}

    records: dict[int, ImageRecord] = {}
    for img in data["images"]:
        try:
            name = str(img["file_name"])
            rec = ImageRecord(int(img["id"]), name, resolve_inside(image_root, name, json_path),
                              int(img["width"]), int(img["height"]))
        except KeyError as exc:
            bad.report(f"image record {img.get('id', '?')} lacks field {exc}")
            continue
        except DatasetError as exc:
            bad.report(str(exc).split(": ", 1)[1] + f" (image {img.get('id')})")
            continue
        if check_images != "none":
            problem = _check_image_file(rec, check_images)
            if problem:
                bad.report(f"image {rec.id} ({rec.file_name}): {problem}")
                continue
        records[rec.id] = rec

    listed_ids = {img.get("id") for img in data["images"]}
    for ann in data["annotations"]:
        ann_id = ann.get("id", "?")
        rec = records.get(ann.get("image_id"))
        if rec is None:
            if ann.get("image_id") not in listed_ids:  # else its image was dropped as bad
                bad.report(f"annotation {ann_id} refers to unknown image id {ann.get('image_id')}")
            continue
        cat = ann.get("category_id")
        if cat not in categories:
            bad.report(f"annotation {ann_id} (image {rec.file_name}) has unknown category id {cat}")
            continue
        problem = _check_box(ann.get("bbox"), rec.width, rec.height)
        seg = ann.get("segmentation") or None
        if problem is None and seg is not None:
            problem = _check_segmentation(seg, rec.height, rec.width)
        if problem:
            bad.report(f"annotation {ann_id} (image {rec.file_name}): {problem}")
            continue
        x, y, w, h = (float(v) for v in ann["bbox"])
        rec.instances.append(Instance(int(ann_id), int(cat), (x, y, w, h), seg,
                                      float(ann.get("area", w * h)), int(ann.get("iscrowd", 0))))
    bad.warn_summary()
    return CocoDataset(json_path, image_root, categories, list(records.values()))


def _check_image_file(rec: ImageRecord, how: ImageCheck) -> str | None:
    if how == "exists":
        return None if rec.path.is_file() else f"image file {rec.path} not found"
    try:
        size = image_size(rec.path)
    except DatasetError as exc:
        return str(exc)
    if size != (rec.width, rec.height):
        return f"image is {size[0]}x{size[1]} but the json says {rec.width}x{rec.height}"
    return None
