"""Detection test fixtures: a tiny hand-drawn COCO set in the PIDray layout (coloured polygons on a
near-white belt) and a small, fast detector configuration."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from segloc.detection.config import FinetuneConfig

CLASSES = {1: ("Block", (40, 70, 200)), 2: ("Disc", (230, 140, 40)), 3: ("Wedge", (60, 170, 60))}


def _polygon(kind: int, cx: float, cy: float, r: float) -> np.ndarray:
    if kind == 1:
        pts = [(cx - r, cy - 0.7 * r), (cx + r, cy - 0.7 * r), (cx + r, cy + 0.7 * r), (cx - r, cy + 0.7 * r)]
    elif kind == 2:
        pts = [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)]
    else:
        pts = [(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    return np.array(pts, dtype=np.float64)


def draw_split(
    root: Path,
    split: str,
    json_name: str,
    n_images: int,
    seed: int,
    size: tuple[int, int] = (160, 120),
    max_objects: int = 2,
) -> Path:
    """Write ``root/<split>/*.png`` and ``root/annotations/<json_name>``; returns the json path."""
    rng = np.random.default_rng(seed)
    w, h = size
    (root / split).mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for i in range(n_images):
        canvas = np.full((h, w, 3), 245, dtype=np.uint8) - rng.integers(0, 8, (h, w, 1), dtype=np.uint8)
        n = int(rng.integers(1, max_objects + 1))
        slots = rng.permutation(2)[:n]
        for slot in slots:
            kind = int(rng.integers(1, 4))
            r = float(rng.uniform(16, 24))
            cx = (0.27 + 0.46 * slot) * w + rng.uniform(-6, 6)
            cy = h / 2 + rng.uniform(-12, 12)
            poly = _polygon(kind, cx, cy, r)
            cv2.fillPoly(canvas, [np.round(poly).astype(np.int32)], CLASSES[kind][1])
            x0, y0 = poly.min(axis=0)
            x1, y1 = poly.max(axis=0)
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i + 1,
                    "category_id": kind,
                    "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                    "area": float(cv2.contourArea(poly.astype(np.float32))),
                    "iscrowd": 0,
                    "segmentation": [poly.flatten().round(2).tolist()],
                }
            )
        name = f"{split}_{i:03d}.png"
        cv2.imwrite(str(root / split / name), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
        images.append({"id": i + 1, "file_name": name, "width": w, "height": h})
    data = {"images": images, "annotations": anns, "categories": [{"id": k, "name": v[0]} for k, v in CLASSES.items()]}
    path = root / "annotations" / json_name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def draw_pidray(root: Path, n_train: int = 4, seed: int = 0) -> Path:
    """A PIDray-layout root whose "easy" test split repeats the training images (to measure overfitting)."""
    draw_split(root, "train", "xray_train.json", n_train, seed)
    draw_split(root, "easy", "xray_test_easy.json", n_train, seed)
    return root


def tiny_config(root: Path, kind: str = "cascade", **sections: dict) -> FinetuneConfig:
    """A detector small enough to train in seconds on CPU (ResNet-18, 128 px, few proposals)."""
    data = {
        "init": "random",
        "model": {
            "kind": kind,
            "arch": "resnet18",
            "attention": False,
            "image_size": 128,
            "fpn_channels": 64,
            "mask_head_dim": 64,
            "box_head_dim": 256,
            "rpn_pre_nms_train": 300,
            "rpn_post_nms_train": 100,
            "rpn_pre_nms_test": 200,
            "rpn_post_nms_test": 50,
            "rpn_batch_per_image": 64,
            "roi_batch_per_image": 32,
        },
        "data": {"root": str(root), "workers": 0},
        "optim": {"milestones": [2], "lr": 0.16, "warmup_steps": 5},
        "train": {"epochs": 2, "batch_size": 2, "log_every": 1},
    }
    for section, values in sections.items():
        data[section] = {**data.get(section, {}), **values} if isinstance(values, dict) else values
    return FinetuneConfig.model_validate(data)


@pytest.fixture(scope="session")
def shapes_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four training scans; the "easy" test split repeats them."""
    return draw_pidray(tmp_path_factory.mktemp("shapes"))


@pytest.fixture(scope="session")
def make_config():
    """The :func:`tiny_config` factory (test modules cannot import conftest under importlib mode)."""
    return tiny_config


@pytest.fixture(scope="session")
def draw_coco():
    """The :func:`draw_split` helper: writes one drawn COCO split."""
    return draw_split


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Detection tests run single-threaded: small batches gain little from threads, and a shared
    2-core machine makes multi-threaded runs many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
