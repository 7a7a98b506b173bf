"""A cache of resized copies: real scans (0.2-1.9 megapixels) decoded and shrunk once, not per step.

Pair synthesis and fine-tuning read every image many times; a full-size JPEG decode costs more
than the model step at the small sizes they work at. ``resize_coco`` writes each image of a COCO
set with its longer side at most ``max_side`` and a json whose boxes and polygons are scaled to
match (ids, categories and extra fields kept); ``resize_folder`` does the same for a folder of
unlabelled scans. Finished files are kept, so an interrupted cache resumes where it stopped.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
from tqdm import tqdm

from segloc.data.coco import load_coco
from segloc.errors import DatasetError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
JPEG_QUALITY = 95


def resized_shape(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) with the longer side at most ``max_side``, aspect kept (never enlarged)."""
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _resize_file(src: Path, dst: Path, max_side: int) -> tuple[int, int]:
    """Write ``src`` shrunk to ``dst`` (atomically) unless it is there; return the copy's (width, height)."""
    if dst.is_file():
        image = cv2.imread(str(dst), cv2.IMREAD_UNCHANGED)
        if image is not None:
            return image.shape[1], image.shape[0]
    image = cv2.imread(str(src), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(f"{src}: cannot be decoded as an image")
    size = resized_shape(image.shape[1], image.shape[0], max_side)
    if size != (image.shape[1], image.shape[0]):
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    tmp = dst.with_name(f".{dst.name}.tmp{dst.suffix}")
    if not cv2.imwrite(str(tmp), image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise DatasetError(f"{tmp}: could not be written")
    os.replace(tmp, dst)
    return size


def _resize_all(pairs: list[tuple[Path, Path]], max_side: int, workers: int, desc: str) -> list[tuple[int, int]]:
    """Resize many files in threads (OpenCV releases the GIL); sizes in input order."""
    for dst in {d.parent for _, d in pairs}:
        dst.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max(1, workers)) as pool:
        jobs = pool.map(lambda p: _resize_file(p[0], p[1], max_side), pairs)
        return list(tqdm(jobs, total=len(pairs), desc=desc, leave=False))


def _scale_annotation(ann: dict, sx: float, sy: float, json_path: Path) -> dict:
    out = dict(ann)
    x, y, w, h = ann["bbox"]
    out["bbox"] = [x * sx, y * sy, w * sx, h * sy]
    out["area"] = float(ann.get("area", w * h)) * sx * sy
    seg = ann.get("segmentation")
    if isinstance(seg, list):
        out["segmentation"] = [[v * (sx if i % 2 == 0 else sy) for i, v in enumerate(poly)] for poly in seg]
    elif seg:
        raise DatasetError(f"{json_path}: annotation {ann.get('id')} has an RLE mask; resized copies support "
                           "boxes and polygons only")
    return out


def resize_coco(json_path: Path | str, images: Path | str, out_json: Path | str, out_images: Path | str,
                max_side: int, workers: int = 2) -> Path:
    """Resized copy of a COCO set (images + scaled json); returns ``out_json``."""
    json_path, images, out_json, out_images = Path(json_path), Path(images), Path(out_json), Path(out_images)
    load_coco(json_path, images, check_images="none")  # validates records and file paths first
    data = json.loads(json_path.read_text(encoding="utf-8"))
    records = data.get("images", [])
    pairs = [(images / r["file_name"], out_images / r["file_name"]) for r in records]
    sizes = _resize_all(pairs, max_side, workers, f"resize {json_path.name}")
    scales = {}
    for record, (width, height) in zip(records, sizes):
        scales[record["id"]] = (width / record["width"], height / record["height"])
        record["width"], record["height"] = width, height
    data["annotations"] = [_scale_annotation(a, *scales[a["image_id"]], json_path) for a in data.get("annotations", [])
                           if a.get("image_id") in scales]
    out_json.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_json.with_name(f".{out_json.name}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, out_json)
    return out_json


def resize_folder(folder: Path | str, out: Path | str, max_side: int, pattern: str = "*", workers: int = 2) -> int:
    """Resized copies of the scans of ``folder`` matching ``pattern`` into ``out``; returns how many."""
    folder, out = Path(folder), Path(out)
    files = sorted(p for p in folder.glob(pattern) if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DatasetError(f"{folder}: no image matches {pattern!r}")
    _resize_all([(p, out / p.name) for p in files], max_side, workers, f"resize {folder.name}")
    return len(files)
