"""SegLoc pair sampler (paper Algorithm 1): two segments of one class on two backgrounds.

Pair ``i`` is a pure function of (seed, i, data): every random draw comes from
``numpy.random.default_rng([seed, i])`` in a fixed order, so the same index gives the same pair
in any process, on the fly or written offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from segloc.errors import DatasetError, log
from segloc.synthesis.backgrounds import BackgroundBank
from segloc.synthesis.paste import PasteMode, View, paste, place
from segloc.synthesis.region import Box, scale_region
from segloc.synthesis.segments import SegmentBank
from segloc.synthesis.transforms import SegmentAugment, transform_segment

MAX_DRAWS = 100  # background draws before giving up: only hit when most files are bad


@dataclass(frozen=True)
class SegLocConfig:
    """Pair synthesis settings.

    ``target_width``: backgrounds are resized to this width keeping their aspect (None keeps
    them as they are). ``single_instance``: what to do with a class that has one instance:
    ``"reuse"`` it for both views (independent transforms) or ``"exclude"`` the class.
    ``min_region``: regions narrower than this (after resizing) count as no region.
    """

    target_width: int | None = 500
    composition: tuple[float, float] = (0.25, 0.65)
    mode: PasteMode = "blend"
    augment: SegmentAugment = field(default_factory=SegmentAugment)
    single_instance: Literal["reuse", "exclude"] = "reuse"
    min_region: int = 16


@dataclass(frozen=True)
class Pair:
    """Two views of one class, with where they came from (file names, annotation ids, c)."""

    index: int
    view1: View
    view2: View
    info: dict


def pair_rng(seed: int, index: int) -> np.random.Generator:
    """The generator that drives pair ``index`` of run ``seed``."""
    return np.random.default_rng([seed, index])


def resize_to_width(image: np.ndarray, width: int | None) -> np.ndarray:
    """Resize to ``width`` keeping the aspect ratio (area interpolation when shrinking)."""
    h, w = image.shape[:2]
    if width is None or width == w:
        return image
    height = max(1, int(round(h * width / w)))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if width < w else cv2.INTER_LINEAR)


class SegLocPairSampler:
    """Callable ``index -> Pair`` following Algorithm 1 over a segment and a background bank."""

    def __init__(
        self, segments: SegmentBank, backgrounds: BackgroundBank, config: SegLocConfig | None = None, seed: int = 0
    ) -> None:
        self.segments, self.backgrounds = segments, backgrounds
        self.config = config or SegLocConfig()
        self.seed = seed
        single = [c for c, members in segments.by_class.items() if len(members) == 1]
        if single:
            names = ", ".join(segments.categories.get(c, str(c)) for c in single)
            action = (
                "left out"
                if self.config.single_instance == "exclude"
                else "paired with itself under independent transforms"
            )
            log.warning("%d class(es) have a single instance and are %s: %s", len(single), action, names)
        self.classes = [
            c for c, members in segments.by_class.items() if len(members) > 1 or self.config.single_instance == "reuse"
        ]
        if not self.classes:
            raise DatasetError(f"{segments.coco.json_path}: no class has two instances to pair")

    def __call__(self, index: int) -> Pair:
        rng = pair_rng(self.seed, index)
        bg1 = self._draw_background(rng, exclude=None)
        bg2 = self._draw_background(rng, exclude=bg1[0])
        category = int(self.classes[rng.integers(len(self.classes))])
        first, second = self._draw_instances(category, rng)
        views, info = [], {"backgrounds": [], "annotations": [], "sources": [], "composition": []}
        for (bg_index, image, region), seg_index in ((bg1, first), (bg2, second)):
            view, c = self._compose(image, region, seg_index, category, rng)
            views.append(view)
            segment = self.segments[seg_index]
            info["backgrounds"].append(self.backgrounds.files[bg_index])
            info["annotations"].append(segment.annotation_id)
            info["sources"].append(segment.source)
            info["composition"].append(c)
        return Pair(index, views[0], views[1], info)

    def _draw_background(self, rng: np.random.Generator, exclude: int | None) -> tuple[int, np.ndarray, Box]:
        """A random readable background with a usable region, resized, with its scaled region."""
        bank = self.backgrounds
        for _ in range(MAX_DRAWS):
            i = int(rng.integers(len(bank)))
            if i == exclude or bank.files[i] in bank.bad:
                continue
            image = bank.read(i)
            region = None if image is None else bank.region(i, image)
            if region is None:
                continue
            resized = resize_to_width(image, self.config.target_width)
            sx, sy = resized.shape[1] / image.shape[1], resized.shape[0] / image.shape[0]
            region = scale_region(region, sx, sy)
            if min(region[2] - region[0], region[3] - region[1]) < self.config.min_region:
                bank.mark_bad(bank.files[i], f"authentic region under {self.config.min_region} px after resizing")
                continue
            return i, resized, region
        raise DatasetError(
            f"{bank.folder}: no usable background after {MAX_DRAWS} draws ({len(bank.bad)} of {len(bank)} files bad)"
        )

    def _draw_instances(self, category: int, rng: np.random.Generator) -> tuple[int, int]:
        """Two distinct instances of ``category``, from two different images when there are any."""
        members = self.segments.by_class[category]
        first = int(members[rng.integers(len(members))])
        record = self.segments.refs[first].record
        others = [m for m in members if self.segments.refs[m].record != record]
        if not others:
            others = [m for m in members if m != first]
        if not others:
            return first, first
        return first, int(others[rng.integers(len(others))])

    def _compose(
        self, background: np.ndarray, region: Box, seg_index: int, category: int, rng: np.random.Generator
    ) -> tuple[View, float]:
        segment = self.segments[seg_index]
        size = (region[2] - region[0], region[3] - region[1])
        image, mask = transform_segment(segment.image, segment.mask, size, self.config.augment, rng)
        corner = place(region, (mask.shape[1], mask.shape[0]), rng)
        c = float(rng.uniform(*self.config.composition))
        out, full = paste(background, image, mask, corner, c, self.config.mode)
        x, y = corner
        box = np.array([x, y, x + mask.shape[1], y + mask.shape[0]], np.float32)
        return View(out, box, full, category), c
