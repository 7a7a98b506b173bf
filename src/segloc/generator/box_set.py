"""A box-only COCO set of generated SIXray scans, one item each of given classes: training data shaped like a
real box-only set (e.g. SIXray Gun / Knife / Wrench with one boxed item per scan), for sim-to-real checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segloc.data.sixray import SIXRAY_ALL_CLASSES
from segloc.generator.plan import balanced
from segloc.generator.scan import ScanPlan, render_scan
from segloc.generator.writer import write_image, write_json

BOX_SET_CODE = 16  # keeps this set's random streams apart from the presets' (plan.DATASET_CODES)


def write_box_set(out: Path, classes: tuple[str, ...], count: int, seed: int = 0) -> Path:
    """Write `count` SIXray-style scans (one item each, classes balanced) to ``out/images`` and their boxes to
    ``out/train.json`` (category ids 1.. in the order of `classes`); returns the json's path."""
    unknown = sorted(set(classes) - set(SIXRAY_ALL_CLASSES))
    if unknown:
        raise ValueError(f"not SIXray classes the generator draws: {unknown}; choose from {SIXRAY_ALL_CLASSES}")
    stream = balanced(classes, np.random.default_rng([seed, BOX_SET_CODE]))
    images, annotations = [], []
    for image_id in range(1, count + 1):
        scan = render_scan(ScanPlan("sixray", (next(stream),)), np.random.default_rng([seed, BOX_SET_CODE, image_id]))
        name = f"G{image_id:05d}.jpg"
        write_image(scan.image, out / "images" / name)
        height, width = scan.image.shape[:2]
        images.append({"id": image_id, "file_name": name, "width": width, "height": height})
        for obj in scan.objects:
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "bbox": obj.bbox,
                    "area": obj.area,
                    "category_id": classes.index(obj.class_name) + 1,
                    "iscrowd": 0,
                }
            )
    categories = [{"id": i + 1, "name": name} for i, name in enumerate(classes)]
    write_json({"images": images, "annotations": annotations, "categories": categories}, out / "train.json")
    return out / "train.json"
