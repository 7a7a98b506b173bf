"""Joint image + target transforms for detection training (resize keeping aspect, horizontal flip).

A sample is a dict: ``image`` (H, W, 3) uint8, ``boxes`` (N, 4) float32 xyxy, ``labels`` (N,)
int64 and optionally ``masks`` (N, H, W) uint8. Random transforms take an explicit
``numpy.random.Generator`` so a sample's augmentation depends only on (seed, epoch, index):
the same with any number of workers, and after a resume.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np
import torch

Sample = dict[str, np.ndarray]


class Transform(Protocol):
    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample: ...


class Compose:
    """Apply transforms in order."""

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = list(transforms)

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        for t in self.transforms:
            sample = t(sample, rng)
        return sample


def resized_shape(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(height, width) after scaling so the longer side is ``long_side``."""
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


class ResizeLongSide:
    """Scale image, boxes and masks so the longer side equals ``size`` (aspect ratio kept)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        image = sample["image"]
        h, w = image.shape[:2]
        nh, nw = resized_shape(h, w, self.size)
        if (nh, nw) == (h, w):
            return sample
        out = dict(sample)
        out["image"] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
        out["boxes"] = sample["boxes"] * np.array([nw / w, nh / h, nw / w, nh / h], dtype=np.float32)
        if "masks" in sample:
            masks = sample["masks"]
            out["masks"] = (
                np.stack([cv2.resize(m, (nw, nh), interpolation=cv2.INTER_NEAREST) for m in masks])
                if len(masks)
                else np.zeros((0, nh, nw), dtype=np.uint8)
            )
        return out


class RandomHorizontalFlip:
    """Mirror image, boxes and masks left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        if rng.random() >= self.p:
            return sample
        out = dict(sample)
        width = sample["image"].shape[1]
        out["image"] = np.ascontiguousarray(sample["image"][:, ::-1])
        boxes = sample["boxes"].copy()
        boxes[:, [0, 2]] = width - sample["boxes"][:, [2, 0]]
        out["boxes"] = boxes
        if "masks" in sample:
            out["masks"] = np.ascontiguousarray(sample["masks"][:, :, ::-1])
        return out


def training_transforms(image_size: int, flip: float) -> Compose:
    """The paper's training augmentation: resize to ``image_size`` (longer side), flip with ``flip``."""
    return Compose([ResizeLongSide(image_size), RandomHorizontalFlip(flip)])


def to_tensors(sample: Sample) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Image as float (3, H, W) in [0, 1]; target as torchvision detection tensors."""
    image = torch.from_numpy(sample["image"]).permute(2, 0, 1).float().div_(255.0)
    target = {
        "boxes": torch.from_numpy(sample["boxes"]).float().reshape(-1, 4),
        "labels": torch.from_numpy(sample["labels"]).long(),
    }
    if "masks" in sample:
        target["masks"] = torch.from_numpy(sample["masks"])
    return image, target
