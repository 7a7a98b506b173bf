"""Helpers of the bad-input suite: the clean-error assertion and tiny valid datasets to break."""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

W, H = 64, 48
CATEGORIES = [{"id": 1, "name": "Gun"}, {"id": 2, "name": "Knife"}]


@dataclass
class Result:
    """Exit code and output of one `segloc` invocation."""

    code: int
    out: str
    err: str


def assert_clean_error(result: Result, *words: str) -> str:
    """Exit code 2, one `error:` line holding every word, no traceback; returns the line."""
    lines = [line for line in result.err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert result.code == 2, (result.code, result.err[-2000:])
    assert len(errors) == 1, result.err[-2000:]
    assert "Traceback" not in result.err + result.out, result.err[-2000:]
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]


def scan(seed: int = 0) -> np.ndarray:
    """A near-white scan with one dark square, as BGR for cv2.imwrite."""
    image = np.full((H, W, 3), 240, np.uint8)
    x = 8 + seed % 20
    image[10:30, x:x + 20] = (40, 60, 90)
    return image


def write_images(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        cv2.imwrite(str(folder / name), scan(i))


def coco_dict(names: list[str]) -> dict:
    """A valid COCO dict: one polygon-annotated square per image, alternating classes."""
    images = [{"id": i + 1, "file_name": n, "width": W, "height": H} for i, n in enumerate(names)]
    anns = []
    for i in range(len(names)):
        x = 8 + i % 20
        anns.append({"id": i + 1, "image_id": i + 1, "category_id": 1 + i % 2, "bbox": [x, 10, 20, 20],
                     "area": 400, "iscrowd": 0, "segmentation": [[x, 10, x + 20, 10, x + 20, 30, x, 30]]})
    return {"images": images, "annotations": anns, "categories": [dict(c) for c in CATEGORIES]}


def voc_xml(name: str, objects: list[tuple[str, tuple]]) -> str:
    boxes = "".join(f"<object><name>{cls}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax>"
                    f"<ymax>{b[3]}</ymax></bndbox></object>" for cls, b in objects)
    return (f"<annotation><filename>{name}.jpg</filename><size><width>{W}</width><height>{H}</height></size>"
            f"{boxes}</annotation>")


def finetune_config(path: Path, root: Path, **sections: dict) -> Path:
    """A fine-tuning YAML for a detector small enough to take a step in seconds on CPU."""
    data = {
        "init": "random",
        "model": {"kind": "mask_rcnn", "arch": "resnet18", "attention": False, "image_size": 64, "fpn_channels": 32,
                  "mask_head_dim": 32, "box_head_dim": 64, "rpn_pre_nms_train": 100, "rpn_post_nms_train": 50,
                  "rpn_pre_nms_test": 50, "rpn_post_nms_test": 20, "rpn_batch_per_image": 32,
                  "roi_batch_per_image": 16},
        "data": {"root": str(root), "workers": 0},
        "train": {"epochs": 1, "lr_steps": [1], "batch_size": 2, "lr": 0.02, "warmup_iters": 1, "amp": False,
                  "device": "cpu", "log_every": 1},
        "eval": {"splits": []},
    }
    for section, values in sections.items():
        data[section] = {**data.get(section, {}), **values} if isinstance(values, dict) else values
    path.write_text(yaml.safe_dump(data))
    return path




def png_header_only(width: int, height: int) -> bytes:
    """A PNG that announces ``width`` x ``height`` pixels but holds two rows: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\0" * (1 + 3 * width) * 2)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def tiny_detector(path: Path) -> Path:
    """An untrained, tiny Mask R-CNN model file (enough to run `segloc detect`)."""
    from segloc.detection.builders import build_detector
    from segloc.detection.config import ModelConfig
    from segloc.detection.data import CategoryMap
    from segloc.detection.inference import detector_state
    from segloc.engine import atomic_save

    cfg = ModelConfig(kind="mask_rcnn", arch="resnet18", attention=False, image_size=64, fpn_channels=32,
                      mask_head_dim=32, box_head_dim=64, rpn_pre_nms_test=50, rpn_post_nms_test=20)
    model = build_detector(cfg, 2, True)
    return atomic_save(detector_state(model, CategoryMap((1, 2), ("Gun", "Knife")), True, cfg, "random"), path)
