"""SIXray VOC boxes -> a box-only COCO json, so SIXray boxes can feed the detector."""
from __future__ import annotations

import json
from pathlib import Path

from segloc.data.images import image_size
from segloc.data.sixray import SIXRAY_ALL_CLASSES, SixrayRoot
from segloc.engine.atomic import atomic_write_text
from segloc.errors import BadRecords, DatasetError


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
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": cat,
                         "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    bad.warn_summary()
    data = {
        "info": {"description": f"SIXray boxes converted by segloc from {Path(root)}"},
        "images": images,
        "annotations": anns,
        "categories": [{"id": i + 1, "name": n, "supercategory": "prohibited"} for i, n in enumerate(class_names)],
    }
    atomic_write_text(json.dumps(data), out)
    return data
