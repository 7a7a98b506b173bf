"""Joint image + target transforms for detection training (resize keeping aspect, flips, X-ray colour jitter).

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


def _mirrored(sample: Sample, axis: int) -> Sample:
    """Image, boxes and masks mirrored along image ``axis`` (0: top-bottom, 1: left-right)."""
    out = dict(sample)
    side = sample["image"].shape[axis]
    out["image"] = np.ascontiguousarray(np.flip(sample["image"], axis))
    low, high = (1, 3) if axis == 0 else (0, 2)
    boxes = sample["boxes"].copy()
    boxes[:, [low, high]] = side - sample["boxes"][:, [high, low]]
    out["boxes"] = boxes
    if "masks" in sample:
        out["masks"] = np.ascontiguousarray(np.flip(sample["masks"], axis + 1))
    return out


class RandomHorizontalFlip:
    """Mirror image, boxes and masks left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        return _mirrored(sample, 1) if rng.random() < self.p else sample


class RandomVerticalFlip:
    """Mirror image, boxes and masks top-bottom with probability ``p`` (a bag has no up or down on the belt)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        return _mirrored(sample, 0) if rng.random() < self.p else sample


class XrayColourJitter:
    """Pseudo-colour jitter as another scanner or a thicker bag would show it: brightness ``v`` becomes
    ``255 (v / 255) ** k`` with ``ln k`` uniform in [-density, density] (every attenuation scaled by k, by
    Beer-Lambert; the empty belt stays white and metal stays dark), saturation scaled by 1 +- ``saturation``,
    hue shifted by up to ``hue`` of the colour circle (small: hue tells the material)."""

    def __init__(self, hue: float, saturation: float, density: float) -> None:
        self.hue, self.saturation, self.density = hue, saturation, density

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        shift = rng.uniform(-self.hue, self.hue) * 180
        gain = 1 + rng.uniform(-self.saturation, self.saturation)
        power = np.exp(rng.uniform(-self.density, self.density))
        levels = np.arange(256, dtype=np.float32)
        luts = (
            np.mod(levels + shift, 180),
            np.clip(levels * gain, 0, 255),
            255 * (levels / 255) ** power,
        )
        hsv = cv2.cvtColor(sample["image"], cv2.COLOR_RGB2HSV)
        channels = [cv2.LUT(c, np.round(lut).astype(np.uint8)) for c, lut in zip(cv2.split(hsv), luts)]
        return {**sample, "image": cv2.cvtColor(cv2.merge(channels), cv2.COLOR_HSV2RGB)}


def training_transforms(
    image_size: int, flip: float, vflip: float = 0.0, hue: float = 0.0, saturation: float = 0.0, density: float = 0.0
) -> Compose:
    """The paper's training augmentation (resize to ``image_size`` on the longer side, flip with ``flip``), plus
    vertical flips and X-ray colour jitter where their probability or range is above zero."""
    transforms: list[Transform] = [ResizeLongSide(image_size), RandomHorizontalFlip(flip)]
    if vflip > 0:
        transforms.append(RandomVerticalFlip(vflip))
    if hue > 0 or saturation > 0 or density > 0:
        transforms.append(XrayColourJitter(hue, saturation, density))
    return Compose(transforms)


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
