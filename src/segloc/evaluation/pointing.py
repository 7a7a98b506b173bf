"""CAM pointing accuracy (SIXray Table 3, after the pointing game of Zhang et al.).

For every (image, class) pair where the class has a ground-truth box, the pixel of maximal
response of that class's map is a hit when it lies inside one of the class's boxes (or within
``tolerance`` pixels of one); accuracy = hits / (hits + misses), per class and averaged over
classes. The SIXray paper states the strict rule (tolerance 0, the default here); the original
pointing game allows 15 px. Boxes are VOC (xmin, ymin, xmax, ymax) in 1-based inclusive pixel
coordinates, so the map pixel at 0-based (row, col) is the point (col + 1, row + 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

Box = Sequence[float]


def peak_point(heatmap: np.ndarray) -> tuple[float, float]:
    """(x, y) of the maximum of a 2-D map in VOC 1-based pixel coordinates (first maximum on ties)."""
    heatmap = np.asarray(heatmap)
    if heatmap.ndim != 2 or heatmap.size == 0:
        raise ValueError(f"heatmap must be a non-empty 2-D array, got shape {heatmap.shape}")
    row, col = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    return float(col + 1), float(row + 1)


def point_in_boxes(point: tuple[float, float], boxes: Sequence[Box], tolerance: float = 0.0) -> bool:
    """True when ``point`` is within ``tolerance`` (Euclidean) of at least one box."""
    x, y = point
    for x1, y1, x2, y2 in boxes:
        dx = max(x1 - x, 0.0, x - x2)
        dy = max(y1 - y, 0.0, y - y2)
        if dx * dx + dy * dy <= tolerance * tolerance:
            return True
    return False


@dataclass
class PointingCounts:
    """Hit and miss counts per class; ``accuracy`` gives per-class values and their mean."""

    class_names: Sequence[str]
    tolerance: float = 0.0
    hits: dict[str, int] = field(default_factory=dict)
    misses: dict[str, int] = field(default_factory=dict)

    def add(self, class_name: str, heatmap: np.ndarray, boxes: Sequence[Box]) -> bool:
        """Score one (image, class) pair: the class's map against the class's boxes."""
        if class_name not in self.class_names:
            raise ValueError(f"unknown class {class_name!r}; expected one of {list(self.class_names)}")
        if not boxes:
            raise ValueError(f"no ground-truth box for {class_name!r}: such pairs are not scored")
        hit = point_in_boxes(peak_point(heatmap), boxes, self.tolerance)
        counter = self.hits if hit else self.misses
        counter[class_name] = counter.get(class_name, 0) + 1
        return hit

    def accuracy(self) -> tuple[list[float], float]:
        """Per-class hits / (hits + misses) (NaN for a class never scored) and the mean over scored classes."""
        per_class = []
        for name in self.class_names:
            total = self.hits.get(name, 0) + self.misses.get(name, 0)
            per_class.append(self.hits.get(name, 0) / total if total else float("nan"))
        valid = [a for a in per_class if not np.isnan(a)]
        return per_class, float(np.mean(valid)) if valid else float("nan")
