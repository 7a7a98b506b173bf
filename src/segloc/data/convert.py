"""Label conversion: any format segloc reads -> COCO json, VOC xml or YOLO txt; and SIXray's VOC boxes
-> a box-only COCO json with the SIXray class list, so SIXray boxes can feed the detector."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

from segloc.data.coco import CocoDataset, ImageRecord, Instance
from segloc.data.formats import LabelFormat, load_annotations
from segloc.data.images import image_size
from segloc.data.sixray import SIXRAY_ALL_CLASSES, SixrayRoot
from segloc.engine.atomic import atomic_write_text
from segloc.errors import BadRecords, DatasetError, log


def sixray_to_coco(
    root: Path | str,
    out: Path | str,
    class_names: tuple[str, ...] = SIXRAY_ALL_CLASSES,
    include_negatives: bool = False,
    skip_bad: bool = False,
) -> dict:
    """Write a COCO json (file names relative to ``JPEGImage/``) from the ``Annotation/*.xml`` files.

    Empty objects (no or degenerate box) are dropped; malformed xml, an xml without its image,
    an unreadable image header and unknown class names are errors (or, ``skip_bad``, skipped).
    The file is written atomically. Returns the json written.
    """
    six = SixrayRoot(root)
    bad = BadRecords(six.annotation_dir, skip_bad)
    cat_ids = {name.lower(): i + 1 for i, name in enumerate(class_names)}
    annotations = six.annotations(skip_bad)
    names = six.image_names() if include_negatives else sorted(annotations)
    images, anns = [], []
    for name in names:
        try:
            path = six.image_path(name)
            width, height = image_size(path)
        except DatasetError as exc:
            bad.report_error(exc)
            continue
        image_id = len(images) + 1
        images.append({"id": image_id, "file_name": path.name, "width": width, "height": height})
        for obj in annotations[name].objects if name in annotations else ():
            if obj.box is None:
                continue
            cat = cat_ids.get(obj.name.lower())
            if cat is None:
                bad.report(f"{name}.xml: unknown class {obj.name!r} (known: {', '.join(class_names)})")
                continue
            x1, y1 = max(0.0, obj.box[0]), max(0.0, obj.box[1])
            x2, y2 = min(float(width), obj.box[2]), min(float(height), obj.box[3])
            if x2 <= x1 or y2 <= y1:
                bad.report(f"{name}.xml: box {obj.box} lies outside the {width}x{height} image")
                continue
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image_id,
                    "category_id": cat,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": (x2 - x1) * (y2 - y1),
                    "iscrowd": 0,
                }
            )
    bad.warn_summary()
    data = {
        "info": {"description": f"SIXray boxes converted by segloc from {Path(root)}"},
        "images": images,
        "annotations": anns,
        "categories": [{"id": i + 1, "name": n, "supercategory": "prohibited"} for i, n in enumerate(class_names)],
    }
    atomic_write_text(json.dumps(data), out)
    return data


def write_coco(dataset: CocoDataset, out: Path | str) -> Path:
    """Write ``dataset`` as a COCO instance json (file names relative to its image folder; masks kept)."""
    data = {"info": {"description": f"converted by segloc from {dataset.json_path}"}, **dataset.to_coco()}
    return atomic_write_text(json.dumps(data), out)


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _boxes(dataset: CocoDataset) -> Iterator[tuple[ImageRecord, list[Instance]]]:
    """Each image with the instances a box format can hold (crowd regions out; masks are not written)."""
    masks = crowd = 0
    for record in dataset.images:
        kept = [inst for inst in record.instances if not inst.iscrowd]
        crowd += len(record.instances) - len(kept)
        masks += sum(inst.has_mask for inst in kept)
        yield record, kept
    if masks or crowd:
        log.info(
            "%s: boxes written; %d mask(s) and %d crowd region(s) are not (the format holds boxes only)",
            dataset.json_path,
            masks,
            crowd,
        )


def _write_class_names(dataset: CocoDataset, out: Path) -> dict[int, int]:
    """Write ``out/classes.txt`` (names in category-id order) and return category id -> class index."""
    out.mkdir(parents=True, exist_ok=True)
    ids = dataset.category_ids
    (out / "classes.txt").write_text("".join(f"{dataset.categories[c]}\n" for c in ids), encoding="utf-8")
    return {cat: i for i, cat in enumerate(ids)}


def write_voc(dataset: CocoDataset, out: Path | str) -> Path:
    """Write one VOC xml per image into folder ``out`` (``filename`` relative to the image folder), and
    ``classes.txt`` so that classes without an object keep their place."""
    out = Path(out)
    _write_class_names(dataset, out)
    for record, instances in _boxes(dataset):
        root = ElementTree.Element("annotation")
        ElementTree.SubElement(root, "filename").text = record.file_name
        size = ElementTree.SubElement(root, "size")
        for key, value in (("width", record.width), ("height", record.height), ("depth", 3)):
            ElementTree.SubElement(size, key).text = str(value)
        for inst in instances:
            obj = ElementTree.SubElement(root, "object")
            ElementTree.SubElement(obj, "name").text = dataset.categories[inst.category_id]
            ElementTree.SubElement(obj, "difficult").text = "0"
            box = ElementTree.SubElement(obj, "bndbox")
            for key, value in zip(("xmin", "ymin", "xmax", "ymax"), inst.box_xyxy):
                ElementTree.SubElement(box, key).text = _number(value)
        ElementTree.indent(root)
        ElementTree.ElementTree(root).write(out / Path(record.file_name).with_suffix(".xml").name, encoding="utf-8")
    return out


def write_yolo(dataset: CocoDataset, out: Path | str) -> Path:
    """Write one YOLO txt per image (``class cx cy w h``, relative) and ``classes.txt`` into folder ``out``."""
    out = Path(out)
    index = _write_class_names(dataset, out)
    for record, instances in _boxes(dataset):
        lines = []
        for inst in instances:
            x, y, w, h = inst.bbox
            lines.append(
                f"{index[inst.category_id]} {(x + w / 2) / record.width:.6f} "
                f"{(y + h / 2) / record.height:.6f} {w / record.width:.6f} {h / record.height:.6f}\n"
            )
        path = out / Path(record.file_name).with_suffix(".txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(lines), encoding="utf-8")
    return out


WRITERS = {"coco": write_coco, "voc": write_voc, "yolo": write_yolo}


def convert_labels(
    source: Path | str,
    to: LabelFormat,
    out: Path | str,
    images: Path | str | None = None,
    classes: Path | str | None = None,
    skip_bad: bool = False,
) -> CocoDataset:
    """Read labels in any format (:func:`~segloc.data.formats.load_annotations`) and write them as ``to``
    (a json file for coco, a folder for voc and yolo); returns the dataset read. Image files are not
    copied: the written labels refer to the same image folder."""
    if to not in WRITERS:
        raise DatasetError(f"unknown label format {to!r}; use {', '.join(WRITERS)}")
    dataset = load_annotations(source, images, classes, skip_bad=skip_bad)
    WRITERS[to](dataset, out)
    return dataset
