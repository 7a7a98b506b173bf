"""Compose a segment onto a background inside its authentic region.

Two modes, both driven by the composition coefficient ``c`` (the paper draws it from
U(0.25, 0.65)):

* ``"blend"`` (the paper): inside the mask, ``out = c * segment + (1 - c) * background``. The
  object looks semi-transparent, as overlapping objects do in X-ray.
* ``"multiply"`` (physical): a scan pixel is proportional to the transmission
  ``T = exp(-mu * t)`` and stacked objects multiply transmissions (Beer-Lambert), so
  ``out = background * (segment / 255) ** alpha``. ``alpha`` scales the segment's optical depth
  (its thickness); we take ``alpha = 2c`` so the paper's mid value c = 0.5 pastes the object
  with its own thickness and the range (0.25, 0.65) spans half to 1.3 times it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:  # region.py loads OpenCV; configs import PasteMode from here without it
    from segloc.synthesis.region import Box

PasteMode = Literal["blend", "multiply"]


@dataclass(frozen=True)
class View:
    """One synthesised view: RGB uint8 image, pasted box [x1, y1, x2, y2) (exclusive ends, float),
    full-image uint8 0/1 mask and class id (-1 for the class-free InsLoc)."""

    image: np.ndarray
    box: np.ndarray
    mask: np.ndarray
    label: int


def place(region: Box, size: tuple[int, int], rng: np.random.Generator) -> tuple[int, int]:
    """Uniform top-left corner for a ``size`` = (w, h) object lying wholly inside ``region``."""
    x1, y1, x2, y2 = region
    w, h = size
    if w > x2 - x1 or h > y2 - y1:
        raise ValueError(f"a {w}x{h} object does not fit the region {region}")
    return int(rng.integers(x1, x2 - w + 1)), int(rng.integers(y1, y2 - h + 1))


def paste(
    background: np.ndarray,
    segment: np.ndarray,
    mask: np.ndarray,
    corner: tuple[int, int],
    c: float,
    mode: PasteMode = "blend",
) -> tuple[np.ndarray, np.ndarray]:
    """Composite ``segment`` (under ``mask``) at ``corner`` = (x, y); returns (image, full mask)."""
    x, y = corner
    h, w = mask.shape
    out = background.copy()
    roi = out[y : y + h, x : x + w].astype(np.float32)
    seg = segment.astype(np.float32)
    if mode == "blend":
        mixed = c * seg + (1.0 - c) * roi
    elif mode == "multiply":
        mixed = roi * np.power(seg / 255.0, 2.0 * c)
    else:
        raise ValueError(f"unknown paste mode {mode!r} (use 'blend' or 'multiply')")
    inside = mask.astype(bool)
    roi[inside] = mixed[inside]
    out[y : y + h, x : x + w] = np.clip(np.rint(roi), 0, 255).astype(np.uint8)
    full = np.zeros(background.shape[:2], np.uint8)
    full[y : y + h, x : x + w] = mask
    return out, full
