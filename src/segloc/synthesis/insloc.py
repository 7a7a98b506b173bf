"""InsLoc baseline pair synthesis (SPEC section 3), for comparison with SegLoc.

Two RandomResizedCrop-style crops of ONE foreground image (area 0.2-1.0 of the image, aspect
log-uniform in 0.5-2), each rescaled keeping its aspect so that it fits a random w x h with
w, h in [128, 255] (InsLoc's ``imrescale`` to a sampled scale), hard-pasted at a uniform
position on two different backgrounds resized to 256 x 256. Each view then gets MoCo v2's
colour augmentation, *including* random grayscale (kept here on purpose: this is the baseline
SegLoc departs from) and a horizontal flip. The box is the pasted crop; the label is -1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from segloc.data.images import read_rgb
from segloc.errors import DatasetError, log
from segloc.synthesis.backgrounds import BackgroundBank
from segloc.synthesis.pairs import MAX_DRAWS, Pair, pair_rng
from segloc.synthesis.paste import View
from segloc.synthesis.transforms import moco_color


@dataclass(frozen=True)
class InsLocConfig:
    """Crop, rescale and canvas settings of the InsLoc synthesis (defaults of the reference)."""

    canvas: int = 256
    crop_area: tuple[float, float] = (0.2, 1.0)
    crop_ratio: tuple[float, float] = (0.5, 2.0)
    crop_side: tuple[int, int] = (128, 255)
    flip: float = 0.5


def random_resized_crop(
    width: int, height: int, area: tuple[float, float], ratio: tuple[float, float], rng: np.random.Generator
) -> tuple[int, int, int, int]:
    """Crop box (x, y, w, h) with torchvision's RandomResizedCrop sampling: 10 tries, then centre."""
    total = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = total * rng.uniform(*area)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1)), w, h
    in_ratio = width / height
    if in_ratio < ratio[0]:
        w, h = width, int(round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        w, h = int(round(height * ratio[1])), height
    else:
        w, h = width, height
    return (width - w) // 2, (height - h) // 2, w, h


def rescale_to_fit(crop: np.ndarray, side: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Resize keeping the aspect so the crop fits a random (a, b) box, a, b uniform in ``side``."""
    a, b = (int(v) for v in rng.integers(side[0], side[1] + 1, size=2))
    h, w = crop.shape[:2]
    factor = min(max(a, b) / max(w, h), min(a, b) / min(w, h))
    size = (max(1, int(round(w * factor))), max(1, int(round(h * factor))))
    return cv2.resize(crop, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)


class InsLocPairSampler:
    """Callable ``index -> Pair`` of the InsLoc baseline: one image's two crops on two backgrounds."""

    def __init__(
        self, foregrounds: list[Path], backgrounds: BackgroundBank, config: InsLocConfig | None = None, seed: int = 0
    ) -> None:
        if not foregrounds:
            raise DatasetError("InsLoc synthesis needs at least one foreground image")
        self.foregrounds = [Path(p) for p in foregrounds]
        self.backgrounds = backgrounds
        self.config = config or InsLocConfig()
        self.seed = seed
        self.bad_foregrounds: set[Path] = set()

    def __call__(self, index: int) -> Pair:
        rng = pair_rng(self.seed, index)
        bg1, image1 = self._draw_background(rng, exclude=None)
        bg2, image2 = self._draw_background(rng, exclude=bg1)
        source, foreground = self._draw_foreground(rng)
        views = [self._view(image, foreground, rng) for image in (image1, image2)]
        info = {
            "backgrounds": [self.backgrounds.files[bg1], self.backgrounds.files[bg2]],
            "sources": [str(source), str(source)],
        }
        return Pair(index, views[0], views[1], info)

    def _draw_background(self, rng: np.random.Generator, exclude: int | None) -> tuple[int, np.ndarray]:
        bank, side = self.backgrounds, self.config.canvas
        for _ in range(MAX_DRAWS):
            i = int(rng.integers(len(bank)))
            if i == exclude or bank.files[i] in bank.bad:
                continue
            image = bank.read(i)
            if image is not None:
                return i, cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
        raise DatasetError(f"{bank.folder}: no readable background after {MAX_DRAWS} draws")

    def _draw_foreground(self, rng: np.random.Generator) -> tuple[Path, np.ndarray]:
        for _ in range(MAX_DRAWS):
            path = self.foregrounds[int(rng.integers(len(self.foregrounds)))]
            if path in self.bad_foregrounds:
                continue
            try:
                return path, read_rgb(path)
            except DatasetError as exc:
                self.bad_foregrounds.add(path)
                log.warning("%s; foreground skipped (%d so far)", exc, len(self.bad_foregrounds))
        raise DatasetError(f"no readable foreground image after {MAX_DRAWS} draws")

    def _view(self, background: np.ndarray, foreground: np.ndarray, rng: np.random.Generator) -> View:
        cfg = self.config
        h, w = foreground.shape[:2]
        x, y, cw, ch = random_resized_crop(w, h, cfg.crop_area, cfg.crop_ratio, rng)
        crop = rescale_to_fit(foreground[y : y + ch, x : x + cw], cfg.crop_side, rng)
        ph, pw = crop.shape[:2]
        px, py = int(rng.integers(0, cfg.canvas - pw + 1)), int(rng.integers(0, cfg.canvas - ph + 1))
        image = background.copy()
        image[py : py + ph, px : px + pw] = crop
        image = moco_color(image, rng)
        box = np.array([px, py, px + pw, py + ph], np.float32)
        if rng.random() < cfg.flip:
            image = np.ascontiguousarray(image[:, ::-1])
            box = np.array([cfg.canvas - box[2], box[1], cfg.canvas - box[0], box[3]], np.float32)
        mask = np.zeros((cfg.canvas, cfg.canvas), np.uint8)
        x1, y1, x2, y2 = box.astype(int)
        mask[y1:y2, x1:x2] = 1
        return View(image, box, mask, -1)
