"""Pascal VOC folders: one xml per image (``filename``, ``size``, ``object/name``, ``object/bndbox``), read
as a COCO set of boxes.

Images sit in ``JPEGImages/`` (VOC) or ``JPEGImage/`` (SIXray) beside ``Annotations/`` /
``Annotation/``, or in the xml folder itself. Class names come from a names file when one is given
or found beside the xml files, else they are the sorted names met in the files; category ids are the
class index + 1. Boxes are ``xmin ymin xmax ymax`` in pixels, clipped to the image; objects without a
box (SIXray has some) are left out and counted in one log line.
"""
from __future__ import annotations

from pathlib import Path

from segloc.data.classes import find_class_file, read_class_names
from segloc.data.coco import CocoDataset, ImageRecord, Instance
from segloc.data.images import IMAGE_SUFFIXES, image_size
from segloc.data.paths import resolve_inside
from segloc.data.sixray import VocAnnotation, read_voc_xml
from segloc.errors import BadRecords, DatasetError, log

IMAGE_FOLDERS = ("JPEGImages", "JPEGImage", "images")


def default_image_folder(annotations: Path) -> Path:
    """The image folder beside a VOC annotation folder (JPEGImages/, JPEGImage/, images/), else the folder itself."""
    for name in IMAGE_FOLDERS:
        if (annotations.parent / name).is_dir():
            return annotations.parent / name
    return annotations


def _image_path(image_root: Path, ann: VocAnnotation, xml: Path) -> Path | None:
    """The image an xml file describes: its ``filename``, else any image with the xml's stem."""
    named = resolve_inside(image_root, ann.filename, xml) if ann.filename else None
    if named is not None and named.is_file():
        return named
    return next((image_root / f"{xml.stem}{s}" for s in IMAGE_SUFFIXES if (image_root / f"{xml.stem}{s}").is_file()),
                None)


def _class_names(folder: Path, parsed: list[VocAnnotation], classes: Path | str | None) -> list[str]:
    if classes is not None:
        return read_class_names(classes)
    try:
        return read_class_names(find_class_file(folder))
    except DatasetError:
        return sorted({obj.name for ann in parsed for obj in ann.objects if obj.box is not None})


def load_voc(annotations: Path | str, images: Path | str | None = None, classes: Path | str | None = None,
             skip_bad: bool = False) -> CocoDataset:
    """Read a folder of VOC xml files and their images (see the module docstring) as a COCO set.

    A malformed xml, an xml without its image, a class missing from a given names file or a box
    outside the image is an error naming the file (or, with ``skip_bad``, dropped with one warning).
    """
    folder = Path(annotations)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: VOC annotation folder not found")
    image_root = (Path(images) if images is not None else default_image_folder(folder)).resolve()
    bad = BadRecords(folder, skip_bad)
    parsed: list[tuple[Path, VocAnnotation]] = []
    for xml in sorted(folder.glob("*.xml")):
        try:
            parsed.append((xml, read_voc_xml(xml)))
        except DatasetError as exc:
            bad.report(str(exc).removeprefix(f"{xml}: ") + f" ({xml.name})")
    if not parsed:
        raise DatasetError(f"{folder}: no readable VOC xml file")
    names = _class_names(folder, [ann for _, ann in parsed], classes)
    category = {name: i + 1 for i, name in enumerate(names)}
    records, empty, next_id = [], 0, 1
    for image_id, (xml, ann) in enumerate(parsed, start=1):
        path = _image_path(image_root, ann, xml)
        if path is None:
            bad.report(f"{xml.name}: image {ann.filename!r} not found in {image_root}")
            continue
        width, height = (ann.width, ann.height) if ann.width > 0 and ann.height > 0 else image_size(path)
        record = ImageRecord(image_id, path.relative_to(image_root).as_posix(), path, width, height)
        for obj in ann.objects:
            if obj.box is None:
                empty += 1
                continue
            if obj.name not in category:
                bad.report(f"{xml.name}: class {obj.name!r} is not in the class names ({', '.join(names)})")
                continue
            x1, y1 = max(0.0, obj.box[0]), max(0.0, obj.box[1])
            x2, y2 = min(float(width), obj.box[2]), min(float(height), obj.box[3])
            if x2 <= x1 or y2 <= y1:
                bad.report(f"{xml.name}: box {obj.box} lies outside the {width}x{height} image")
                continue
            box = (x1, y1, x2 - x1, y2 - y1)
            record.instances.append(Instance(next_id, category[obj.name], box, None, box[2] * box[3]))
            next_id += 1
        records.append(record)
    bad.warn_summary()
    if empty:
        log.info("%s: %d object(s) without a box left out", folder, empty)
    return CocoDataset(folder, image_root, {i: n for n, i in category.items()}, records)
