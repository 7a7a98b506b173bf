"""Box-only annotations to item silhouettes: the dense part of the box, as an X-ray shows it.

In a transmission scan a prohibited item (a gun, a knife, a wrench: metal) is the darkest, most
attenuating thing inside its box. The silhouette is the box's pixels darker than both the paper's
darkness threshold and an Otsu threshold of the box's own darkness, closed, reduced to the largest
connected parts and with holes filled. Where that fails (nothing dark, or a mask too small or
too large to be the item), the caller falls back to the whole box.
"""
from __future__ import annotations

import cv2
import numpy as np

MIN_COVER = 0.08
MAX_COVER = 0.97
KEEP_RATIO = 0.25


def silhouette(crop: np.ndarray, threshold: int = 50) -> np.ndarray | None:
    """0/1 mask of the item inside an RGB box crop, or None when no plausible silhouette is found."""
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    darkness = cv2.GaussianBlur(cv2.subtract(np.full_like(gray, 255), gray), (3, 3), 0)
    otsu, _ = cv2.threshold(darkness, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = (darkness > max(threshold, otsu)).astype(np.uint8)
    side = max(3, (min(mask.shape) // 20) | 1)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((side, side), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.flatnonzero(areas >= KEEP_RATIO * areas.max())
    mask = np.isin(labels, keep).astype(np.uint8)
    mask = _fill_holes(mask)
    cover = float(mask.mean())
    return mask if MIN_COVER <= cover <= MAX_COVER else None


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill the enclosed background of a 0/1 mask (flood fill from a padded border)."""
    padded = np.pad(mask, 1)
    outside = padded.copy()
    cv2.floodFill(outside, None, (0, 0), 1)
    holes = outside == 0
    return (padded | holes).astype(np.uint8)[1:-1, 1:-1]
