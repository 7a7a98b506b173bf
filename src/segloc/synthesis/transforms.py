"""Segment and view transforms, driven by an explicit numpy Generator so every draw is reproducible.

SegLoc segments get rotation by any angle (canvas expanded, mask rotated along), flips, a scale
relative to the background's authentic region and a small colour jitter *without* grayscale:
in a dual-energy scan the hue encodes the material, so it may only move a little. The InsLoc
baseline keeps MoCo v2's strong jitter and random grayscale (:func:`moco_color`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from segloc.synthesis.region import mask_box

GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass(frozen=True)
class SegmentAugment:
    """Random segment transform settings.

    ``scale``: range of the segment's longer side as a fraction of the authentic region's longer
    side. Jitter strengths follow torchvision's ColorJitter (factor in [1 - s, 1 + s], hue shift
    in [-h, h] turns); they are small by default because colour is material in X-ray.
    """

    rotation: float = 180.0
    hflip: float = 0.5
    vflip: float = 0.5
    scale: tuple[float, float] = (0.15, 0.5)
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.02


def color_jitter(
    image: np.ndarray,
    rng: np.random.Generator,
    brightness: float,
    contrast: float,
    saturation: float,
    hue: float,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """torchvision-style ColorJitter on an RGB uint8 image: the four changes in a random order.

    The contrast pivot is the mean gray of the ``mask`` pixels when given (a segment's own
    pixels, not its white surroundings).
    """
    factors = {
        "brightness": rng.uniform(max(0.0, 1 - brightness), 1 + brightness),
        "contrast": rng.uniform(max(0.0, 1 - contrast), 1 + contrast),
        "saturation": rng.uniform(max(0.0, 1 - saturation), 1 + saturation),
        "hue": rng.uniform(-hue, hue),
    }
    order = rng.permutation(4)
    out = image.astype(np.float32)
    for k in order:
        name = ("brightness", "contrast", "saturation", "hue")[k]
        f = factors[name]
        if name == "brightness":
            out = out * f
        elif name == "contrast":
            gray = out @ GRAY_WEIGHTS
            pivot = float(gray[mask > 0].mean()) if mask is not None and mask.any() else float(gray.mean())
            out = pivot + f * (out - pivot)
        elif name == "saturation":
            gray = (out @ GRAY_WEIGHTS)[..., None]
            out = gray + f * (out - gray)
        elif f != 0.0:
            hsv = cv2.cvtColor(np.clip(out, 0, 255) / 255.0, cv2.COLOR_RGB2HSV)
            hsv[..., 0] = (hsv[..., 0] + f * 360.0) % 360.0
            out = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0
        out = np.clip(out, 0, 255)
    return np.rint(out).astype(np.uint8)


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """RGB uint8 -> gray replicated on three channels (torchvision Grayscale(3) weights)."""
    gray = np.rint(image.astype(np.float32) @ GRAY_WEIGHTS).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def moco_color(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """MoCo v2 colour augmentation: ColorJitter(0.4, 0.4, 0.4, 0.1) w.p. 0.8, grayscale w.p. 0.2."""
    if rng.random() < 0.8:
        image = color_jitter(image, rng, 0.4, 0.4, 0.4, 0.1)
    if rng.random() < 0.2:
        image = to_grayscale(image)
    return image


def rotate_expand(image: np.ndarray, mask: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate by ``angle`` degrees (counter-clockwise) on a canvas grown to hold every corner.

    Uncovered canvas repeats the nearest edge pixel (no white halo along the object's edge); the
    mask is rotated with the same matrix and re-binarised at 0.5, then both are cut to the mask's
    tight box.
    """
    h, w = mask.shape
    rad = np.deg2rad(angle)
    cos, sin = abs(np.cos(rad)), abs(np.sin(rad))
    new_w, new_h = int(np.ceil(w * cos + h * sin)), int(np.ceil(w * sin + h * cos))
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    matrix[0, 2] += new_w / 2.0 - w / 2.0
    matrix[1, 2] += new_h / 2.0 - h / 2.0
    image = cv2.warpAffine(image, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    soft = cv2.warpAffine(
        mask.astype(np.float32),
        matrix,
        (new_w, new_h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return crop_to_mask(image, _binarise(soft))


def resize_segment(image: np.ndarray, mask: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Resize a segment to ``size`` = (w, h); the mask is resampled smoothly and re-binarised."""
    w, h = size
    shrink = w * h < mask.shape[0] * mask.shape[1]
    image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    soft = cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return crop_to_mask(image, _binarise(soft))


def crop_to_mask(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut image and mask to the mask's tight box."""
    x1, y1, x2, y2 = mask_box(mask)
    return np.ascontiguousarray(image[y1:y2, x1:x2]), np.ascontiguousarray(mask[y1:y2, x1:x2])


def _binarise(soft: np.ndarray) -> np.ndarray:
    """0.5 threshold; a thin object that would vanish keeps every touched pixel instead."""
    mask = (soft >= 0.5).astype(np.uint8)
    return mask if mask.any() else (soft > 0).astype(np.uint8)


def transform_segment(
    image: np.ndarray, mask: np.ndarray, region_size: tuple[int, int], aug: SegmentAugment, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Flip, rotate, scale to the region and colour-jitter one segment.

    The longer side becomes a fraction ``aug.scale`` of the region's longer side; a segment that
    would still not fit the region is shrunk until it does.
    """
    if rng.random() < aug.hflip:
        image, mask = image[:, ::-1], mask[:, ::-1]
    if rng.random() < aug.vflip:
        image, mask = image[::-1], mask[::-1]
    angle = rng.uniform(-aug.rotation, aug.rotation)
    if angle != 0.0:
        image, mask = rotate_expand(np.ascontiguousarray(image), np.ascontiguousarray(mask), angle)
    fraction = rng.uniform(*aug.scale)
    rw, rh = region_size
    h, w = mask.shape
    factor = min(fraction * max(rw, rh) / max(w, h), rw / w, rh / h)
    size = (min(max(1, int(round(w * factor))), rw), min(max(1, int(round(h * factor))), rh))
    image, mask = resize_segment(np.ascontiguousarray(image), np.ascontiguousarray(mask), size)
    image = color_jitter(image, rng, aug.brightness, aug.contrast, aug.saturation, aug.hue, mask)
    return image, mask
