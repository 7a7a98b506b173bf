"""Rasterises posed parts into per-material path-length maps (cm) and coverage masks."""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from segloc.generator.geometry import Part, Pose
from segloc.generator.materials import MATERIALS

MATERIAL_INDEX = {m: i for i, m in enumerate(MATERIALS)}
SHELL_WALL = 0.15  # wall thickness of "shell" parts, as a fraction of their half-width
SUBPIXEL_BITS = 4
TEXTURE_SIZE = 1024
TEXTURE_SEED = 20211129  # fixed: the texture is the same in every process, so output stays deterministic
WEAVE_GRAIN, WEAVE_DEPTH = 2.0, 0.35  # cloth: grain (px) and relative depth of the blotches of its weave and folds
CLOTH_EDGE = 3  # px over which cloth thins out at its edges


@lru_cache(maxsize=1)
def texture() -> np.ndarray:
    """Blotchy unit-variance noise of about WEAVE_GRAIN px grain, built once per process."""
    rng = np.random.default_rng(TEXTURE_SEED)
    field = cv2.GaussianBlur(rng.standard_normal((TEXTURE_SIZE, TEXTURE_SIZE), dtype=np.float32), (0, 0), WEAVE_GRAIN)
    return field / field.std()


def _profile(cover: np.ndarray, kind: str, y0: int, x0: int) -> np.ndarray:
    """Relative path length across a covered region (its top-left pixel at y0, x0): 1 for flat, cylinder
    chords for rod/shell; cloth thins out over CLOTH_EDGE px at its edges and has a blotchy weave (fixed to the
    image, so it is deterministic)."""
    if kind == "flat":
        return cover.astype(np.float32)
    if kind == "cloth":
        h, w = cover.shape
        oy, ox = (y0 * 7) % (TEXTURE_SIZE - h + 1), (x0 * 13) % (TEXTURE_SIZE - w + 1)
        soft = cv2.blur(cover.astype(np.float32), (CLOTH_EDGE, CLOTH_EDGE))
        return soft * np.maximum(1 + WEAVE_DEPTH * texture()[oy : oy + h, ox : ox + w], 0)
    dist = cv2.distanceTransform(cover, cv2.DIST_L2, 3)
    radius = float(dist.max())
    if radius < 1.5:
        return cover.astype(np.float32)
    x = 1.0 - np.clip((dist - 0.5) / (radius - 0.5), 0.0, 1.0)  # 1 at the edge, 0 on the axis
    outer = np.sqrt(np.maximum(1.0 - x * x, 0.0))
    if kind == "rod":
        return outer * (cover > 0)
    if kind == "shell":
        inner = np.sqrt(np.maximum((1.0 - SHELL_WALL) ** 2 - x * x, 0.0))
        return (outer - inner) * np.float32(1.0 / SHELL_WALL) * (cover > 0)
    raise ValueError(f"unknown part profile {kind!r}; expected flat, cloth, rod or shell")


def _shape(part: Part, pose: Pose, height: int, width: int) -> tuple[int, int, np.ndarray, np.ndarray] | None:
    """(y0, x0, local relative path length, local coverage uint8) of one posed part, None if off-image."""
    pts = pose.apply(part.outline)
    pad = part.width * pose.scale / 2 + 2 + (CLOTH_EDGE // 2 if part.profile == "cloth" else 0)
    (lo_x, lo_y), (hi_x, hi_y) = (pts.min(0) - pad).tolist(), (pts.max(0) + pad).tolist()
    x0, y0 = max(math.floor(lo_x), 0), max(math.floor(lo_y), 0)
    x1, y1 = min(math.ceil(hi_x) + 1, width), min(math.ceil(hi_y) + 1, height)
    if x1 <= x0 or y1 <= y0:
        return None
    cover = np.zeros((y1 - y0, x1 - x0), np.uint8)
    unit = 1 << SUBPIXEL_BITS
    fixed = np.round((pts - (x0, y0)) * unit).astype(np.int32)
    if part.width > 0:
        line = max(1, int(round(part.width * pose.scale)))
        cv2.polylines(cover, [fixed], False, 1, line, cv2.LINE_8, SUBPIXEL_BITS)
    else:
        cv2.fillPoly(cover, [fixed], 1, cv2.LINE_8, shift=SUBPIXEL_BITS)
    for hole in part.holes:
        hole_px = np.round((pose.apply(hole) - (x0, y0)) * unit).astype(np.int32)
        cv2.fillPoly(cover, [hole_px], 0, cv2.LINE_8, shift=SUBPIXEL_BITS)
    return y0, x0, _profile(cover, part.profile, y0, x0), cover


def _same_shape(a: Part, b: Part) -> bool:
    """Whether two parts cover the same pixels the same way (the organic and mineral twins of ``filled``)."""
    return a.outline is b.outline and a.profile == b.profile and a.width == b.width and a.holes is b.holes


def rasterise(part: Part, pose: Pose, height: int, width: int) -> tuple[int, int, np.ndarray, np.ndarray] | None:
    """(y0, x0, local path-length map in cm, local coverage uint8) of one posed part, None if off-image."""
    out = _shape(part, pose, height, width)
    if out is None:
        return None
    y0, x0, relative, cover = out
    return y0, x0, relative * np.float32(part.thickness), cover


class Canvas:
    """Per-material path-length maps (cm) of one scan."""

    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width
        self.thickness = np.zeros((len(MATERIALS), height, width), np.float32)

    def draw(
        self, parts: list[Part], pose: Pose, mask: np.ndarray | None = None, clip: np.ndarray | None = None
    ) -> None:
        """Add the parts' path lengths, only where `clip` is set if given; mark coverage in `mask` if given.

        Parts of no thickness only mark the mask, and a part shaped like the one before it reuses its raster."""
        last: Part | None = None
        out = None
        for part in parts:
            if part.thickness == 0 and mask is None:
                continue
            if last is None or not _same_shape(part, last):
                out = _shape(part, pose, self.height, self.width)
                if out is not None and clip is not None:
                    y0, x0, relative, cover = out
                    h, w = cover.shape
                    out = y0, x0, np.multiply(relative, clip[y0 : y0 + h, x0 : x0 + w], dtype=np.float32), cover
            last = part
            if out is None:
                continue
            y0, x0, relative, cover = out
            h, w = cover.shape
            view = self.thickness[MATERIAL_INDEX[part.material], y0 : y0 + h, x0 : x0 + w]
            cv2.scaleAdd(relative, part.thickness, view, dst=view)  # in place, without numpy's temporary
            if mask is not None:
                mask[y0 : y0 + h, x0 : x0 + w] |= cover
