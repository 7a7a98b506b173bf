"""Image reading that fails with a message naming the file: size-limited, truncation-checked."""
from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from segloc.errors import DatasetError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
MAX_IMAGE_PIXELS = 64_000_000  # 8000 x 8000; larger files are refused before decoding (decompression bombs)
JPEG_START, JPEG_SCAN, JPEG_END = b"\xff\xd8", b"\xff\xda", b"\xff\xd9"


def _header_size(source: Path | io.BytesIO, path: Path) -> tuple[int, int] | None:
    """(width, height) from the header; None when PIL does not know the format; refuses huge images."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as im:
                size = im.size
    except Image.DecompressionBombError as exc:
        raise DatasetError(f"{path}: image size over the limit of {MAX_IMAGE_PIXELS:,} pixels "
                           "(a decompression bomb, or not a scan)") from exc
    except UnidentifiedImageError:
        return None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read image header (corrupt or not an image): {exc}") from exc
    if size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise DatasetError(f"{path}: image size {size[0]}x{size[1]} over the limit of {MAX_IMAGE_PIXELS:,} "
                           "pixels (a decompression bomb, or not a scan)")
    return size


def _truncated_jpeg(data: bytes) -> bool:
    """A JPEG whose last scan has no end marker after it: the file was cut short."""
    return data[:2] == JPEG_START and data.rfind(JPEG_END) < data.rfind(JPEG_SCAN)


def read_rgb(path: Path | str) -> np.ndarray:
    """Decode an image file into an RGB uint8 array of shape (H, W, 3)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: image file not found")
    data = path.read_bytes()
    if not data:
        raise DatasetError(f"{path}: empty file, not an image")
    _header_size(io.BytesIO(data), path)
    if _truncated_jpeg(data):
        raise DatasetError(f"{path}: truncated JPEG (the file ends inside the image data)")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(f"{path}: cannot decode image (corrupt or not an image)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def image_size(path: Path | str) -> tuple[int, int]:
    """Return (width, height) from the file header, without decoding the pixels."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: image file not found")
    size = _header_size(path, path)
    if size is None:
        raise DatasetError(f"{path}: cannot read image header (corrupt or not an image)")
    return size


def unreadable_images(paths: Sequence[Path], progress: bool = True) -> dict[Path, str]:
    """Decode every image (in threads, with a progress bar); return path -> problem for those that fail."""

    def problem(path: Path) -> str | None:
        try:
            read_rgb(path)
        except DatasetError as exc:
            return str(exc).removeprefix(f"{path}: ")
        return None

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        found = list(tqdm(pool.map(problem, paths), total=len(paths), desc="decoding images",
                          disable=not progress, leave=False))
    return {path: reason for path, reason in zip(paths, found) if reason is not None}
