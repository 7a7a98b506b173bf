"""COCO instance json (PIDray and any other COCO file): images, boxes, polygon / RLE masks.

Category names and ids are read from the file, never assumed. Box-only files (no
``segmentation``) load too; their instances simply have no mask.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from segloc.data.images import image_size, unreadable_images
from segloc.data.masks import decode_segmentation
from segloc.data.paths import resolve_inside
from segloc.errors import BadRecords, DatasetError

ImageCheck = Literal["none", "exists", "header", "decode"]
BOX_TOLERANCE = 1.0  # pixels a box may overhang the image border (annotation tools round)


def run_image_check(skip_bad: bool) -> ImageCheck:
    """The image check of a training or evaluation run: with ``skip_bad`` every image is decoded up
    front, so an unreadable one is dropped with its annotations instead of stopping the run later."""
    return "decode" if skip_bad else "exists"


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

    def to_coco(self) -> dict:
        """The records that survived validation as a COCO instance dict (images, annotations, categories)."""
        images, annotations = [], []
        for record in self.images:
            images.append(
                {"id": record.id, "file_name": record.file_name, "width": record.width, "height": record.height}
            )
            for inst in record.instances:
                ann = {
                    "id": inst.id,
                    "image_id": record.id,
                    "category_id": inst.category_id,
                    "bbox": list(inst.bbox),
                    "area": inst.area,
                    "iscrowd": inst.iscrowd,
                }
                if inst.has_mask:
                    ann["segmentation"] = inst.segmentation
                annotations.append(ann)
        categories = [{"id": i, "name": n} for i, n in sorted(self.categories.items())]
        return {"images": images, "annotations": annotations, "categories": categories}


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise DatasetError(f"{path}: annotation file not found")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise DatasetError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
        raise DatasetError(f"{path}: not a COCO instance file (needs 'images' and 'annotations')")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key, []), list):
            raise DatasetError(f"{path}: '{key}' must be a list, found {type(data[key]).__name__}")
    if not data["images"]:
        raise DatasetError(f"{path}: the annotation file lists no images")
    if not data.get("categories"):
        raise DatasetError(f"{path}: the annotation file lists no categories")
    return data


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    """A finite int or float (JSON's NaN and Infinity literals are not, nor are ints beyond float range)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _read_categories(path: Path, records: list) -> dict[int, str]:
    """Category id -> name; a malformed or repeated category is an error (it would shift labels)."""
    categories: dict[int, str] = {}
    for c in records:
        if not isinstance(c, dict) or not _is_int(c.get("id")) or not isinstance(c.get("name"), str):
            raise DatasetError(f"{path}: category {c!r} needs an integer 'id' and a text 'name'")
        if c["id"] in categories:
            raise DatasetError(
                f"{path}: category id {c['id']} is listed twice ({categories[c['id']]!r} and {c['name']!r})"
            )
        categories[c["id"]] = c["name"]
    return categories


def _image_problem(img: object) -> str | None:
    """What is wrong with an image record's fields, or None."""
    if not isinstance(img, dict):
        return f"image record {img!r} is not an object"
    ident = img.get("id", "?")
    if not _is_int(img.get("id")):
        return f"image record {ident!r} has no integer 'id'"
    if not isinstance(img.get("file_name"), str) or not img["file_name"] or "\0" in img["file_name"]:
        return f"image {ident} has no valid 'file_name' ({img.get('file_name')!r})"
    for key in ("width", "height"):
        if not _is_int(img.get(key)) or img[key] <= 0:
            return f"image {ident} has no positive integer '{key}' ({img.get(key)!r})"
    return None


def _rle_string_total(counts: str) -> int | None:
    """Sum of the run lengths of a compressed COCO RLE string (6-bit chunks offset by 48, 0x20 =
    more chunks follow, 0x10 of the last chunk = negative, runs from the third on stored as the
    difference to the run two before); None when the string is malformed."""
    runs: list[int] = []
    pos = 0
    while pos < len(counts):
        value = shift = 0
        while True:
            if pos >= len(counts):
                return None
            chunk = ord(counts[pos]) - 48
            if not 0 <= chunk < 64:
                return None
            pos += 1
            value |= (chunk & 0x1F) << shift
            shift += 5
            if not chunk & 0x20:
                if chunk & 0x10:
                    value -= 1 << shift
                break
        if len(runs) > 2:
            value += runs[-2]
        if value < 0:
            return None
        runs.append(value)
    return sum(runs)


def _check_segmentation(seg: object, height: int, width: int) -> str | None:
    """Return a problem description, or None when the segmentation is usable."""
    if isinstance(seg, list):
        for poly in seg:
            if not isinstance(poly, list) or len(poly) < 6 or len(poly) % 2:
                n = len(poly) // 2 if isinstance(poly, list) else 0
                return f"polygon with under 3 points ({n} points)"
            if not all(_is_number(v) for v in poly):
                return "polygon with a non-numeric or non-finite coordinate"
        return None
    if isinstance(seg, dict):
        if "counts" not in seg or "size" not in seg:
            return "RLE without 'counts' or 'size'"
        if not isinstance(seg["size"], list) or seg["size"] != [height, width]:
            return f"RLE size {seg['size']!r} differs from the image size [{height}, {width}]"
        counts = seg["counts"]
        if isinstance(counts, list):
            total = sum(counts) if all(_is_int(v) and v >= 0 for v in counts) else None
        else:
            total = _rle_string_total(counts) if isinstance(counts, str) else None
        if total is None:
            return "RLE 'counts' are malformed"
        if total != height * width:
            return f"RLE runs cover {total} pixels, the image has {height * width}"
        return None
    return f"segmentation of unsupported type {type(seg).__name__}"


def _check_box(bbox: object, width: int, height: int) -> str | None:
    if not isinstance(bbox, list) or len(bbox) != 4 or not all(_is_number(v) for v in bbox):
        return f"bbox {bbox!r} is not [x, y, w, h] of finite numbers"
    x, y, w, h = (float(v) for v in bbox)
    if w <= 0 or h <= 0:
        return f"bbox {list(bbox)} has no area"
    t = BOX_TOLERANCE
    if x < -t or y < -t or x + w > width + t or y + h > height + t:
        return f"bbox {list(bbox)} lies outside the {width}x{height} image"
    return None


def _annotation_problem(ann: dict, rec: ImageRecord, categories: dict[int, str]) -> str | None:
    """What is wrong with an annotation of a known image, or None."""
    if not _is_int(ann.get("category_id")) or ann["category_id"] not in categories:
        return f"unknown category id {ann.get('category_id')!r}"
    problem = _check_box(ann.get("bbox"), rec.width, rec.height)
    seg = ann.get("segmentation") or None
    if problem is None and seg is not None:
        problem = _check_segmentation(seg, rec.height, rec.width)
    if problem is None and "area" in ann and not _is_number(ann["area"]):
        problem = f"area {ann['area']!r} is not a finite number"
    if problem is None and ann.get("iscrowd", 0) not in (0, 1):
        problem = f"iscrowd {ann['iscrowd']!r} is not 0 or 1"
    return problem


def _read_images(
    images: list, json_path: Path, image_root: Path, check_images: ImageCheck, bad: BadRecords
) -> tuple[dict[int, ImageRecord], Counter]:
    """The valid image records by id, and how often each integer id is listed (repeats are bad)."""
    listed = Counter(img.get("id") for img in images if isinstance(img, dict) and _is_int(img.get("id")))
    records: dict[int, ImageRecord] = {}
    for img in images:
        problem = _image_problem(img)
        if problem is None and listed[img["id"]] > 1:
            problem = f"image id {img['id']} is listed {listed[img['id']]} times ({img['file_name']})"
        if problem is None:
            try:
                path = resolve_inside(image_root, img["file_name"], json_path)
            except DatasetError as exc:
                problem = str(exc).split(": ", 1)[1] + f" (image {img['id']})"
        if problem:
            bad.report(problem)
            continue
        rec = ImageRecord(img["id"], img["file_name"], path, img["width"], img["height"])
        if check_images != "none":
            problem = _check_image_file(rec, "exists" if check_images == "exists" else "header")
            if problem:
                bad.report(f"image {rec.id} ({rec.file_name}): {problem}")
                continue
        records[rec.id] = rec
    if check_images == "decode":
        unreadable = unreadable_images([r.path for r in records.values()])
        for rec in [r for r in records.values() if r.path in unreadable]:
            bad.report(f"image {rec.id} ({rec.file_name}): {unreadable[rec.path]}")
            del records[rec.id]
    return records, listed


def load_coco(
    json_path: Path | str,
    image_root: Path | str,
    skip_bad: bool = False,
    check_images: ImageCheck = "exists",
) -> CocoDataset:
    """Load and validate a COCO instance file whose image file names are relative to ``image_root``.

    Every problem (a field of the wrong type, a repeated id, a non-finite coordinate, a broken
    RLE, an image outside the root, missing or unreadable) raises a :class:`DatasetError` naming
    the file and the record, unless ``skip_bad``: then broken annotations (or images, with their
    annotations) are dropped and one warning gives the count. ``check_images``: ``exists``,
    ``header`` (size read from the file) or ``decode`` (every image decoded, in threads).
    A repeated or malformed category is always an error.
    """
    json_path, image_root = Path(json_path), Path(image_root)
    data = _read_json(json_path)
    bad = BadRecords(json_path, skip_bad)
    categories = _read_categories(json_path, data["categories"])

    records, listed = _read_images(data["images"], json_path, image_root, check_images, bad)
    seen_annotations: set[int] = set()
    for ann in data["annotations"]:
        if not isinstance(ann, dict) or not _is_int(ann.get("id")) or not _is_int(ann.get("image_id")):
            bad.report(f"annotation {ann!r:.80} needs an integer 'id' and 'image_id'")
            continue
        ann_id = ann["id"]
        if ann_id in seen_annotations:
            bad.report(f"annotation id {ann_id} is listed twice")
            continue
        seen_annotations.add(ann_id)
        rec = records.get(ann["image_id"])
        if rec is None:
            if ann["image_id"] not in listed:  # else its image was dropped as bad
                bad.report(f"annotation {ann_id} refers to unknown image id {ann['image_id']}")
            continue
        problem = _annotation_problem(ann, rec, categories)
        if problem:
            bad.report(f"annotation {ann_id} (image {rec.file_name}): {problem}")
            continue
        x, y, w, h = (float(v) for v in ann["bbox"])
        rec.instances.append(
            Instance(
                ann_id,
                ann["category_id"],
                (x, y, w, h),
                ann.get("segmentation") or None,
                float(ann.get("area", w * h)),
                ann.get("iscrowd", 0),
            )
        )
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
