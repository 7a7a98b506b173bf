"""COCO masks in one place: binary masks to JSON-safe compressed RLE and back, any COCO segmentation
(polygons, uncompressed or compressed RLE) to pycocotools' RLE, its area and its box."""

from __future__ import annotations

import numpy as np
from pycocotools import mask as mask_utils


def encode_mask(mask: np.ndarray) -> dict:
    """A binary (H, W) mask as compressed RLE whose ``counts`` is a string, so it can be written to JSON."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def to_rle(segmentation: list[list[float]] | dict, height: int, width: int) -> dict:
    """Polygons (merged into one mask), uncompressed RLE or compressed RLE (string or bytes counts) as the
    compressed RLE that pycocotools' functions take."""
    if isinstance(segmentation, list):
        return mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    if isinstance(segmentation["counts"], list):
        return mask_utils.frPyObjects(segmentation, height, width)
    counts = segmentation["counts"]
    return {"size": list(segmentation["size"]), "counts": counts.encode("ascii") if isinstance(counts, str) else counts}


def decode_segmentation(segmentation: list[list[float]] | dict, height: int, width: int) -> np.ndarray:
    """Any COCO segmentation as an (H, W) uint8 mask of 0/1."""
    return mask_utils.decode(to_rle(segmentation, height, width)).astype(np.uint8)


def rle_area(rle: dict) -> float:
    """Pixels inside a pycocotools RLE."""
    return float(mask_utils.area(rle))


def rle_box(rle: dict) -> list[float]:
    """The tight (x, y, w, h) box of a pycocotools RLE."""
    return [float(v) for v in mask_utils.toBbox(rle)]
