"""Dataset statistics: counts of images, labels, objects, boxes and masks per split or CSV."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

from segloc.data.coco import BOX_TOLERANCE, CocoDataset, ImageCheck
from segloc.data.formats import load_annotations
from segloc.data.images import image_size, unreadable_images
from segloc.data.paths import resolve_inside
from segloc.data.pidray import load_pidray
from segloc.data.sixray import SIXRAY_ALL_CLASSES, SixrayRoot, VocAnnotation, read_label_csv
from segloc.errors import BadRecords, DatasetError

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


def _check_sixray_boxes(six: SixrayRoot, annotations: dict[str, VocAnnotation], names: set[str],
                        bad: BadRecords) -> None:
    """Report xml files without their image, boxes outside the image and unknown class names."""
    known = {c.lower() for c in SIXRAY_ALL_CLASSES}
    t = BOX_TOLERANCE
    for name, ann in annotations.items():
        if name not in names:
            bad.report(f"{name}.xml: no image {name} in {six.image_dir.name}/")
            continue
        try:
            width, height = image_size(six.image_path(name))
        except DatasetError as exc:
            bad.report_error(exc)
            continue
        for obj in ann.objects:
            if obj.name.lower() not in known:
                bad.report(f"{name}.xml: unknown class {obj.name!r} (known: {', '.join(SIXRAY_ALL_CLASSES)})")
            elif obj.box is not None and (obj.box[0] < -t or obj.box[1] < -t or obj.box[2] > width + t
                                          or obj.box[3] > height + t):
                bad.report(f"{name}.xml: box {obj.box} lies outside the {width}x{height} image")


def sixray_stats(root: Path | str, skip_bad: bool = False, verify: bool = False) -> dict:
    """Counts for a SIXray root: images by name prefix, each label CSV, and the xml boxes.

    Broken records (label rows, xml files, xml without image, boxes outside their image,
    unknown classes; with ``verify`` every image that does not decode) are errors, or with
    ``skip_bad`` counted under ``skipped_records`` with one warning.
    """
    six = SixrayRoot(Path(root))
    bad = BadRecords(six.root, skip_bad)
    names = six.image_names()
    if verify:
        files = []
        for name in six.image_files():
            try:
                files.append(resolve_inside(six.image_dir, name, six.image_dir / name))
            except DatasetError as exc:
                bad.report_error(exc)
        for path, problem in unreadable_images(files).items():
            bad.report_error(DatasetError(f"{path}: {problem}"))
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
    annotations = six.annotations(skip_bad)
    _check_sixray_boxes(six, annotations, name_set, bad)
    for ann in annotations.values():
        for obj in ann.objects:
            if obj.box is None:
                empty += 1
            else:
                boxes[obj.name] += 1
    bad.warn_summary()
    return {
        "images": len(names),
        "positives": sum(n.startswith("P") for n in names),
        "negatives": sum(n.startswith("N") for n in names),
        "unlabelled_images": len(name_set - listed),
        "label_csvs": csvs,
        "annotations": {"files": len(annotations), "boxes": sum(boxes.values()),
                        "empty_objects": empty, "boxes_per_class": dict(sorted(boxes.items()))},
        "skipped_records": len(bad.problems),
    }


def dataset_stats(path: Path | str, fmt: DatasetFormat, skip_bad: bool = False,
                  images: Path | str | None = None, verify: bool = False, classes: Path | str | None = None) -> dict:
    """Statistics of a PIDray root, a SIXray root, or labels in a box format: a COCO json, a VOC or YOLO
    folder (images in their usual place or in ``images``; ``classes``: VOC / YOLO class names file).

    Images are checked by their headers; ``verify`` decodes every one of them (slower, with a
    progress bar) and so also finds truncated or corrupt pixel data.
    """
    path = Path(path)
    check: ImageCheck = "decode" if verify else "header"
    if fmt == "sixray":
        return {"format": "sixray", "root": str(path), **sixray_stats(path, skip_bad, verify)}
    if fmt == "pidray":
        splits = load_pidray(path, skip_bad=skip_bad, check_images=check)
        return {"format": "pidray", "root": str(path), "splits": {s: coco_stats(d) for s, d in splits.items()}}
    ds = load_annotations(path, images, classes, skip_bad=skip_bad, check_images=check, expected=fmt)
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
