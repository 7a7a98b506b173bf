"""Fixtures of the synthesis tests: small hand-drawn scans with known bags, a labelled COCO set,
and the built-in generator's tiny preset (generated once per session)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

CLASSES = {1: "Gun", 2: "Knife", 5: "Bullet"}


@dataclass
class HandMade:
    """Backgrounds with known bags, and a labelled COCO set (polygons, one RLE, one box-only)."""

    backgrounds: Path
    bags: dict[str, tuple[int, int, int, int]]
    labelled: Path
    images: Path


def draw_scan(rng: np.random.Generator, size: tuple[int, int], bag: tuple[int, int, int, int]) -> np.ndarray:
    """Near-white noisy belt with isolated dark specks, and an orange/green textured bag."""
    w, h = size
    image = np.clip(rng.normal(248, 3, (h, w, 3)), 0, 255).astype(np.uint8)
    ys, xs = rng.integers(0, h, 60), rng.integers(0, w, 60)
    for x, y in zip(xs, ys):
        image[y : y + 2, x : x + 2] = 90  # specks smaller than the 9x9 kernel
    x1, y1, x2, y2 = bag
    bag_pixels = np.empty((y2 - y1, x2 - x1, 3), np.float32)
    bag_pixels[:] = (215, 150, 80)
    bag_pixels += rng.normal(0, 12, bag_pixels.shape)
    image[y1:y2, x1:x2] = np.clip(bag_pixels, 0, 255).astype(np.uint8)
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    cv2.rectangle(image, (cx - 20, cy - 10), (cx + 25, cy + 15), (90, 170, 90), -1)
    return image


def _polygon(cx: float, cy: float, r: float, n: int, rng: np.random.Generator) -> list[float]:
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = r * rng.uniform(0.6, 1.0, n)
    return [float(v) for a, rr in zip(angles, radii) for v in (cx + rr * np.cos(a), cy + rr * np.sin(a))]


def make_handmade(root: Path, n_backgrounds: int = 5, seed: int = 0) -> HandMade:
    rng = np.random.default_rng(seed)
    bg_dir = root / "backgrounds"
    bg_dir.mkdir(parents=True)
    bags = {}
    for i in range(n_backgrounds):
        w, h = int(rng.integers(380, 460)), int(rng.integers(260, 330))
        bag = (
            int(rng.integers(20, 60)),
            int(rng.integers(25, 50)),
            w - int(rng.integers(20, 60)),
            h - int(rng.integers(20, 50)),
        )
        name = f"N{i:07d}.jpg" if i % 2 else f"N{i:07d}.png"
        cv2.imwrite(str(bg_dir / name), cv2.cvtColor(draw_scan(rng, (w, h), bag), cv2.COLOR_RGB2BGR))
        bags[name] = bag
    img_dir = root / "labelled"
    img_dir.mkdir()
    images, annotations = [], []
    colours = {1: (40, 60, 200), 2: (60, 120, 230), 5: (20, 20, 20)}
    plan = [(1, 1), (1, 2), (1, 5), (2, 1), (2, 2), (3, 1), (3, 5), (4, 2)]  # (image, class)
    for image_id in range(1, 5):
        scan = draw_scan(rng, (320, 240), (10, 10, 310, 230))
        objects = [c for i, c in plan if i == image_id]
        for k, category in enumerate(objects):
            cx, cy = 55 + 105 * k, 120
            poly = _polygon(cx, cy, 40, 9, rng)
            pts = np.array(poly, np.float32).reshape(-1, 2)
            cv2.fillPoly(scan, [np.round(pts).astype(np.int32)], colours[category])
            x1, y1 = pts.min(0)
            x2, y2 = pts.max(0)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category,
                    "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)],
                    "segmentation": [poly],
                    "area": float((x2 - x1) * (y2 - y1)),
                    "iscrowd": 0,
                }
            )
        cv2.imwrite(str(img_dir / f"img{image_id}.png"), cv2.cvtColor(scan, cv2.COLOR_RGB2BGR))
        images.append({"id": image_id, "file_name": f"img{image_id}.png", "width": 320, "height": 240})
    labelled = root / "labelled.json"
    labelled.write_text(
        json.dumps(
            {
                "images": images,
                "annotations": annotations,
                "categories": [{"id": k, "name": v} for k, v in CLASSES.items()],
            }
        )
    )
    return HandMade(bg_dir, bags, labelled, img_dir)


@dataclass
class Generated:
    """The built-in X-ray generator's ``tiny`` preset, seed 0: PIDray + SIXray layouts, true bags."""

    root: Path
    bags: dict[str, tuple[int, int, int, int]]

    @property
    def backgrounds(self) -> Path:
        return self.root / "sixray" / "JPEGImage"

    @property
    def labelled(self) -> Path:
        return self.root / "pidray" / "annotations" / "xray_train.json"

    @property
    def images(self) -> Path:
        return self.root / "pidray" / "train"


@pytest.fixture(scope="session")
def handmade(tmp_path_factory) -> HandMade:
    return make_handmade(tmp_path_factory.mktemp("handmade"))


@pytest.fixture(scope="session")
def generated(generated_tiny) -> Generated:
    root = generated_tiny[0]
    meta = json.loads((root / "generator_meta.json").read_text())
    bags = {name: tuple(box) for name, box in meta["bags"].items() if name.startswith("sixray/JPEGImage/N")}
    return Generated(root, bags)


@pytest.fixture(scope="session")
def scan_drawer() -> Callable[..., np.ndarray]:
    """:func:`draw_scan`, for tests that draw their own scans."""
    return draw_scan
