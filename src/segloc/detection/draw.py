"""Overlays of detections on a scan: translucent masks, boxes and "class score" labels."""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

from segloc.data.masks import decode_segmentation


def class_colour(category_id: int) -> tuple[int, int, int]:
    """A fixed, well-separated RGB colour per category id (golden-ratio hues)."""
    r, g, b = colorsys.hsv_to_rgb((category_id * 0.618034) % 1.0, 0.85, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_detections(image: np.ndarray, detections: list[dict], mask_alpha: float = 0.45) -> np.ndarray:
    """Return a copy of RGB ``image`` with each detection (``detect`` output records) drawn on it."""
    canvas = image.copy()
    for det in detections:
        colour = class_colour(det["category_id"])
        if "segmentation" in det:
            mask = decode_segmentation(det["segmentation"], *det["segmentation"]["size"]).astype(bool)
            canvas[mask] = (canvas[mask] * (1 - mask_alpha) + np.array(colour) * mask_alpha).astype(np.uint8)
    for det in detections:
        colour = class_colour(det["category_id"])
        x, y, w, h = det["bbox"]
        p1, p2 = (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h)))
        cv2.rectangle(canvas, p1, p2, colour, 2)
        text = f"{det.get('category', det['category_id'])} {det['score']:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
        top = max(0, p1[1] - th - base - 2)
        cv2.rectangle(canvas, (p1[0], top), (p1[0] + tw + 4, top + th + base + 2), colour, -1)
        cv2.putText(
            canvas, text, (p1[0] + 2, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA
        )
    return canvas
