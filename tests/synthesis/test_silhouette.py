"""Box-to-silhouette refinement: the dense item inside a box, on a drawn scan and on real SIXray boxes."""
from __future__ import annotations

import cv2
import numpy as np

from segloc.data.images import read_rgb
from segloc.data.sixray import SixrayRoot
from segloc.synthesis.silhouette import silhouette


def _darkness(rgb: np.ndarray) -> np.ndarray:
    return 255.0 - cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def test_dense_item_on_light_clutter_is_recovered() -> None:
    rng = np.random.default_rng(0)
    crop = np.full((80, 100, 3), 235, np.uint8)
    for _ in range(12):  # light organic clutter (clothes), darkness well under the item's
        x, y = rng.integers(0, 90), rng.integers(0, 70)
        crop[y:y + 10, x:x + 10] = (230, 190, 140)
    item = np.zeros((80, 100), np.uint8)
    item[15:65, 20:35] = 1  # an L-shaped metal item (a wrench-like silhouette)
    item[50:65, 20:80] = 1
    crop[item > 0] = (40, 60, 120)
    mask = silhouette(crop)
    assert mask is not None
    iou = (mask & item).sum() / (mask | item).sum()
    assert iou > 0.85, iou


def test_empty_box_gives_no_silhouette() -> None:
    assert silhouette(np.full((40, 40, 3), 250, np.uint8)) is None


def test_real_sixray_boxes_refine_to_their_densest_part(real_samples) -> None:
    root = SixrayRoot(real_samples / "sixray")
    refined = 0
    for name, annotation in root.annotations().items():
        image = read_rgb(root.image_path(name))
        for obj in annotation.objects:
            x1, y1, x2, y2 = (int(round(v)) for v in obj.box)
            crop = image[y1:y2, x1:x2]
            mask = silhouette(crop)
            if mask is None:
                continue
            refined += 1
            assert 0.08 <= mask.mean() <= 0.97
            dark = _darkness(crop)
            assert dark[mask > 0].mean() > dark[mask == 0].mean() + 20, name
    assert refined >= 5  # of the 7 Knife boxes in the samples
