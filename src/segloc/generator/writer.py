"""Writes generated scans in the real release layouts: PIDray (COCO json + PNG) and SIXray (JPEG, VOC
xml, label CSVs), plus ``generator_meta.json`` with each scan's true bag extent.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from segloc.data.sixray import SIXRAY_ALL_CLASSES, build_subsets, write_subsets
from segloc.generator.scan import ScanObject
from segloc.generator.shapes import PIDRAY_CLASSES

PIDRAY_ANNOTATION_FILES = {
    "train": "xray_train.json",
    "easy": "xray_test_easy.json",
    "hard": "xray_test_hard.json",
    "hidden": "xray_test_hidden.json",
}
JPEG_QUALITY = 90
PNG_COMPRESSION = 1


@dataclass
class Record:
    """What was written for one scan: its path under the output root, size, items and bag box."""

    path: str
    width: int
    height: int
    objects: list[ScanObject] = field(default_factory=list)
    bag_box: tuple[int, int, int, int] = (0, 0, 0, 0)


def write_image(image: np.ndarray, path: Path) -> None:
    """Encode an RGB image as PNG or JPEG (quality 90) by the file suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".png":
        params = [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION]
    else:
        params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
    ok, data = cv2.imencode(path.suffix, np.ascontiguousarray(image[:, :, ::-1]), params)
    if not ok:
        raise OSError(f"{path}: could not encode the image")
    path.write_bytes(data.tobytes())


def coco_dict(records: list[Record], split: str) -> dict:
    """COCO instance annotations of one PIDray split; file names are relative to the split folder."""
    category_ids = {name: i + 1 for i, name in enumerate(PIDRAY_CLASSES)}
    images, annotations = [], []
    for image_id, rec in enumerate(records, start=1):
        images.append({"id": image_id, "file_name": Path(rec.path).name, "width": rec.width, "height": rec.height})
        for obj in rec.objects:
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category_ids[obj.class_name],
                    "bbox": obj.bbox,
                    "area": obj.area,
                    "iscrowd": 0,
                    "segmentation": obj.polygons,
                }
            )
    return {
        "info": {"description": f"segloc synthetic X-ray scans, PIDray layout, split {split}", "version": "1.0"},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i, "name": n, "supercategory": "prohibited"} for n, i in category_ids.items()],
    }


def write_json(obj: dict, path: Path) -> None:
    """Compact, key-order-preserving JSON (byte-identical for identical content)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, separators=(",", ":")), encoding="utf-8")


def write_pidray(root: Path, records_by_split: dict[str, list[Record]]) -> None:
    """One COCO json per split under ``root/annotations``."""
    for split, records in records_by_split.items():
        write_json(coco_dict(records, split), root / "annotations" / PIDRAY_ANNOTATION_FILES[split])


def voc_xml(rec: Record) -> ET.ElementTree:
    """VOC annotation of one SIXray positive; boxes are pixel edges xmin, ymin, xmax, ymax (= x+w, y+h)."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "JPEGImage"
    ET.SubElement(root, "filename").text = Path(rec.path).name
    size = ET.SubElement(root, "size")
    for tag, value in (("width", rec.width), ("height", rec.height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for obj in rec.objects:
        node = ET.SubElement(root, "object")
        for tag, value in (("name", obj.class_name), ("pose", "Unspecified"), ("truncated", "0"), ("difficult", "0")):
            ET.SubElement(node, tag).text = value
        box = ET.SubElement(node, "bndbox")
        x, y, w, h = obj.bbox
        for tag, value in (("xmin", x), ("ymin", y), ("xmax", x + w), ("ymax", y + h)):
            ET.SubElement(box, tag).text = str(value)
    tree = ET.ElementTree(root)
    ET.indent(tree, "\t")
    return tree


def sixray_labels(records: list[Record]) -> dict[str, list[int]]:
    """Image-level labels (1 present, -1 absent) in the release's column order (SIXRAY_ALL_CLASSES), by image stem."""
    labels = {}
    for rec in records:
        present = {obj.class_name for obj in rec.objects}
        labels[Path(rec.path).stem] = [1 if c in present else -1 for c in SIXRAY_ALL_CLASSES]
    return labels


def write_sixray(
    root: Path, records: list[Record], seed: int, per_class_1000: int
) -> dict[str, tuple[list[str], list[str]]]:
    """VOC xml for every positive and the SIXray10/100/1000 label CSVs; returns the subsets."""
    for rec in records:
        if rec.objects:
            path = root / "Annotation" / (Path(rec.path).stem + ".xml")
            path.parent.mkdir(parents=True, exist_ok=True)
            voc_xml(rec).write(path, encoding="utf-8", xml_declaration=False)
    labels = sixray_labels(records)
    subsets = build_subsets(labels, list(SIXRAY_ALL_CLASSES), seed, positives_per_class_1000=per_class_1000)
    write_subsets(root, subsets, labels, list(SIXRAY_ALL_CLASSES))
    return subsets


def write_meta(out: Path, preset: str, seed: int, counts: dict, records: list[Record]) -> None:
    """``generator_meta.json``: preset, seed, counts and the tight box of every scan's bag."""
    bags = {rec.path: list(rec.bag_box) for rec in records}
    write_json({"preset": preset, "seed": seed, "counts": counts, "bags": bags}, out / "generator_meta.json")
