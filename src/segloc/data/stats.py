"""Dataset statistics: counts of images, labels, objects, boxes and masks per split or CSV."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

from segloc.data.coco import CocoDataset
from segloc.data.formats import load_annotations
from segloc.data.pidray import load_pidray
from segloc.data.sixray import SixrayRoot, read_label_csv

DatasetFormat = Literal["pidray", "sixray", "coco", "voc", "yolo"]


def coco_stats(ds: CocoDataset) -> dict:
    """Counts for one COCO file."""
    objects: Counter[str] = Counter()
    boxes = masks = 0
    for rec in ds.images:
        for inst in rec.instances:
            objects[ds.categories[inst.category_id]] += 1
            boxes += 1
            masks += inst.has_mask
    return {
        "images": len(ds.images),
        "labelled_images": sum(1 for r in ds.images if r.instances),
        "boxes": boxes,
        "masks": masks,
        "objects_per_class": {ds.categories[c]: objects.get(ds.categories[c], 0) for c in ds.category_ids},
    }


def sixray_stats(root: Path | str, skip_bad: bool = False) -> dict:
    """Counts for a SIXray root: images by name prefix, each label CSV, and the xml boxes."""
    six = SixrayRoot(Path(root))
    names = six.image_names()
    name_set = set(names)
    listed: set[str] = set()
    csvs = {}
    for key, path in six.label_csvs().items():
        table = read_label_csv(path, skip_bad)
        listed.update(table.rows)
        csvs[key] = {
            "rows": len(table.rows),
            "positives": len(table.positives()),
            "negatives": len(table.negatives()),
            "present_per_class": {c: sum(v[i] == 1 for v in table.rows.values()) for i, c in enumerate(table.class_names)},
            "difficult_per_class": {c: sum(v[i] == 0 for v in table.rows.values()) for i, c in enumerate(table.class_names)},
            "missing_images": sum(1 for n in table.rows if n not in name_set),
        }
    boxes: Counter[str] = Counter()
    empty = 0
    annotations = six.annotations()
    for ann in annotations.values():
        for obj in ann.objects:
            if obj.box is None:
                empty += 1
            else:
                boxes[obj.name] += 1
    return {
        "images": len(names),
        "positives": sum(n.startswith("P") for n in names),
        "negatives": sum(n.startswith("N") for n in names),
        "unlabelled_images": len(name_set - listed),
        "label_csvs": csvs,
        "annotations": {"files": len(annotations), "boxes": sum(boxes.values()),
                        "empty_objects": empty, "boxes_per_class": dict(sorted(boxes.items()))},
    }


def dataset_stats(path: Path | str, fmt: DatasetFormat, skip_bad: bool = False,
                  images: Path | str | None = None, classes: Path | str | None = None) -> dict:
    """Statistics of a PIDray root, a SIXray root, or labels in a box format: a COCO json, a VOC or YOLO
    folder (images in their usual place or in ``images``)."""
    path = Path(path)
    if fmt == "sixray":
        return {"format": "sixray", "root": str(path), **sixray_stats(path, skip_bad)}
    if fmt == "pidray":
        splits = load_pidray(path, skip_bad=skip_bad, check_images="header")
        return {"format": "pidray", "root": str(path), "splits": {s: coco_stats(d) for s, d in splits.items()}}
    ds = load_annotations(path, images, classes, skip_bad=skip_bad, check_images="header", expected=fmt)
    return {"format": fmt, "file": str(path), **coco_stats(ds)}


def format_stats(stats: dict, indent: int = 0) -> str:
    """Human-readable nested listing of :func:`dataset_stats` output."""
    lines = []
    for key, value in stats.items():
        pad = "  " * indent
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.append(format_stats(value, indent + 1))
        else:
            lines.append(f"{pad}{key}: {value}")
    return "\n".join(line for line in lines if line)
