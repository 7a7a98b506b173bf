"""YOLO txt labels (Ultralytics / Darknet): one ``<image stem>.txt`` per image, read as a COCO set.

Each line is ``class cx cy w h`` (a box) or ``class x1 y1 x2 y2 ...`` (a polygon, Ultralytics'
segmentation labels), coordinates relative to the image size, class an index into the class names
(``classes.txt`` or ``*.names``, one name a line, or a ``data.yaml`` with ``names``). Labels sit
beside the images or in a ``labels/`` folder next to ``images/``; an image without a txt file has
no object (a background scan). Category ids are the class index + 1.
"""
from __future__ import annotations

from pathlib import Path

from segloc.data.classes import find_class_file, read_class_names
from segloc.data.coco import BOX_TOLERANCE, CocoDataset, ImageRecord, Instance
from segloc.data.images import IMAGE_SUFFIXES, image_size
from segloc.errors import BadRecords, DatasetError

def default_image_folder(labels: Path) -> Path:
    """Ultralytics keeps ``images/`` beside ``labels/`` (``labels/train`` beside ``images/train``); else the
    images sit with their labels."""
    parts = list(labels.parts)
    if "labels" in parts:
        i = len(parts) - 1 - parts[::-1].index("labels")
        candidate = Path(*parts[:i], "images", *parts[i + 1:])
        if candidate.is_dir():
            return candidate
    return labels


def _parse_line(fields: list[str], classes: int, width: int, height: int) -> tuple[int, tuple, list | None]:
    """(class index, COCO box, polygon or None) of one label line; raises ValueError naming the problem."""
    if len(fields) != 5 and (len(fields) < 7 or len(fields) % 2 == 0):
        raise ValueError(f"{len(fields)} fields; expected 'class cx cy w h' or 'class x1 y1 x2 y2 x3 y3 ...'")
    index, values = int(fields[0]), [float(v) for v in fields[1:]]
    if not 0 <= index < classes:
        raise ValueError(f"class {index} outside the {classes} class names")
    if len(values) == 4:
        cx, cy, w, h = values
        if w <= 0 or h <= 0:
            raise ValueError(f"box {values} has no area")
        x, y, w, h = (cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height
        polygon = None
    else:
        xs, ys = [v * width for v in values[0::2]], [v * height for v in values[1::2]]
        x, y, w, h = min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)
        if w <= 0 or h <= 0:
            raise ValueError("polygon has no area")
        polygon = [round(c, 3) for pair in zip(xs, ys) for c in pair]
    t = BOX_TOLERANCE
    if x < -t or y < -t or x + w > width + t or y + h > height + t:
        raise ValueError(f"box {[round(v, 4) for v in values]} lies outside the image (coordinates must be 0-1)")
    return index, (x, y, w, h), polygon


def load_yolo(labels: Path | str, images: Path | str | None = None, classes: Path | str | None = None,
              skip_bad: bool = False) -> CocoDataset:
    """Read a folder of YOLO txt labels and its images (see the module docstring) as a COCO set.

    Every image file of the image folder is a record (its size read from the header, which the relative
    coordinates need); a txt file without an
    image, a bad line or a class index out of range is an error naming the file and line (or, with
    ``skip_bad``, dropped with one warning giving the count).
    """
    labels = Path(labels)
    if not labels.is_dir():
        raise DatasetError(f"{labels}: YOLO labels folder not found")
    image_root = Path(images) if images is not None else default_image_folder(labels)
    class_file = Path(classes) if classes is not None else find_class_file(labels)
    names = read_class_names(class_file)
    bad = BadRecords(labels, skip_bad)
    files = sorted(p for p in image_root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DatasetError(f"{image_root}: no image files for the YOLO labels in {labels}")
    stems = {p.relative_to(image_root).with_suffix("").as_posix() for p in files}
    for txt in sorted(labels.rglob("*.txt")):
        stem = txt.relative_to(labels).with_suffix("").as_posix()
        if txt != class_file and stem not in stems:
            bad.report(f"{txt.name}: label file without an image in {image_root}")
    records, next_id = [], 1
    for image_id, path in enumerate(files, start=1):
        relative = path.relative_to(image_root)
        try:
            width, height = image_size(path)
        except DatasetError as exc:
            bad.report(f"image {relative}: {exc}")
            continue
        record = ImageRecord(image_id, relative.as_posix(), path, width, height)
        txt = labels / relative.with_suffix(".txt")
        lines = txt.read_text(encoding="utf-8").splitlines() if txt.is_file() and txt != class_file else []
        for line_no, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                index, box, polygon = _parse_line(line.split(), len(names), width, height)
            except ValueError as exc:
                bad.report(f"{txt.name} line {line_no}: {exc}")
                continue
            record.instances.append(Instance(next_id, index + 1, box, [polygon] if polygon else None, box[2] * box[3]))
            next_id += 1
        records.append(record)
    bad.warn_summary()
    return CocoDataset(labels, image_root, {i + 1: n for i, n in enumerate(names)}, records)
