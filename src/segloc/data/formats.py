"""One entry point for labelled sets in any format segloc reads: a COCO json, a VOC xml folder or a
YOLO txt folder, each loaded as a :class:`~segloc.data.coco.CocoDataset`."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from segloc.data.coco import CocoDataset, ImageCheck, load_coco
from segloc.data.images import unreadable_images
from segloc.data.voc import load_voc
from segloc.data.yolo import load_yolo
from segloc.errors import BadRecords, DatasetError

LabelFormat = Literal["coco", "voc", "yolo"]
LABEL_FORMATS: tuple[LabelFormat, ...] = ("coco", "voc", "yolo")


def detect_format(path: Path | str) -> LabelFormat:
    """``coco`` for a json file, ``voc`` for a folder of xml files, ``yolo`` for a folder of txt files."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return "coco"  # a missing json is reported by the COCO loader, naming the file
    if path.is_dir():
        if next(path.glob("*.xml"), None) is not None:
            return "voc"
        if next(path.rglob("*.txt"), None) is not None:
            return "yolo"
        raise DatasetError(f"{path}: folder holds neither VOC xml files nor YOLO txt labels")
    raise DatasetError(f"{path}: not a COCO json file, a VOC xml folder or a YOLO labels folder")


def load_annotations(path: Path | str, images: Path | str | None = None, classes: Path | str | None = None,
                     skip_bad: bool = False, check_images: ImageCheck = "exists",
                     expected: LabelFormat | None = None) -> CocoDataset:
    """Load labels in any supported format (or only in ``expected``); ``images`` defaults to the format's
    usual place (the json's folder, VOC's JPEGImages/, YOLO's images/ or the labels folder), ``classes``
    to the names file found beside the labels (VOC, YOLO). VOC and YOLO images are always checked by
    their headers, and decoded too with ``check_images="decode"`` (unreadable ones are bad records)."""
    path = Path(path)
    fmt = detect_format(path)
    if expected is not None and fmt != expected:
        raise DatasetError(f"{path}: holds {fmt} labels, not {expected}")
    if fmt == "coco":
        return load_coco(path, images if images is not None else path.parent, skip_bad=skip_bad,
                         check_images=check_images)
    loader = load_voc if fmt == "voc" else load_yolo
    dataset = loader(path, images, classes, skip_bad=skip_bad)
    if check_images == "decode":
        bad = BadRecords(path, skip_bad)
        broken = unreadable_images([r.path for r in dataset.images])
        for record in [r for r in dataset.images if r.path in broken]:
            bad.report(f"image {record.file_name}: {broken[record.path]}")
            dataset.images.remove(record)
        bad.warn_summary()
    return dataset
