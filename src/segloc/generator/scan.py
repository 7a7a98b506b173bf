"""Composes one scan: a bag with clutter and prohibited items, rendered through the dual-energy physics,
with exact instance masks (COCO polygons) and boxes for the items and the bag's true extent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import cv2
import numpy as np

from segloc.data.masks import rle_area, rle_box, to_rle
from segloc.generator.bag import Bag, make_bag
from segloc.generator.clutter import cover_pile, draw_clutter, garment, trinket, wire_wrap
from segloc.generator.colours import colour_table, load_calibration
from segloc.generator.detector import observe
from segloc.generator.geometry import Part, Pose
from segloc.generator.materials import attenuation, build_palette, colourise, lut_grid
from segloc.generator.raster import Canvas
from segloc.generator.shapes import SIZE_BOOST, Parts, Rng, draw_item

STYLES = {  # per dataset style: garment layers, share of empty places in a layer, garment density, other
    # benign objects, loose small metal bits, photon noise, belt streaks
    "pidray": {
        "garment_layers": (0, 1),
        "garment_gaps": 0.75,
        "cloth_density": 0.45,
        "clutter": (3, 8),
        "trinkets": (0, 6),
        "noise": 0.02,
        "streaks": True,
    },
    "sixray": {
        "garment_layers": (2, 5),
        "garment_gaps": 0.1,
        "cloth_density": 1.4,
        "clutter": (6, 14),
        "trinkets": (8, 24),
        "noise": 0.012,
        "streaks": False,
    },
}
MAX_ITEM_OVERLAP = 0.25  # IoU cap between the boxes of two prohibited items in one scan


@dataclass(frozen=True)
class ScanPlan:
    """What one scan must contain: dataset style, prohibited item classes, hidden (occluded) or not."""

    style: str
    classes: tuple[str, ...] = ()
    hidden: bool = False


@dataclass
class ScanObject:
    """One prohibited item: class, model, COCO polygons, tight box [x, y, w, h] of their mask, area."""

    class_name: str
    model: str
    polygons: list[list[float]]
    bbox: list[int]
    area: int


@dataclass
class Scan:
    """A rendered scan: RGB image, its prohibited items and the tight box (x1, y1, x2, y2) of the bag."""

    image: np.ndarray
    objects: list[ScanObject] = field(default_factory=list)
    bag_box: tuple[int, int, int, int] = (0, 0, 0, 0)


@dataclass
class Exposure:
    """What the scanner measured for one scan: observed low and high energy attenuations, the prohibited items
    (class, model, mask) and the bag's footprint (where anything attenuates)."""

    a_low: np.ndarray
    a_high: np.ndarray
    items: list[tuple[str, str, np.ndarray]]
    footprint: np.ndarray


@cache
def palette(style: str) -> np.ndarray:
    """The colour table of a dataset style, built once per process: SIXray's calibrated on real scans."""
    if style == "sixray":
        return colour_table(load_calibration(), *lut_grid(style))
    return build_palette(style)


def centred(parts: Parts) -> tuple[Parts, float, float]:
    """Parts shifted so their bounding box is centred on the origin, with its half length and width."""
    pts = np.concatenate([p.outline for p in parts])
    lo, hi = pts.min(0), pts.max(0)
    mid = (lo + hi) / 2
    moved = [
        Part(p.outline - mid, p.material, p.thickness, p.profile, p.width, tuple(h - mid for h in p.holes))
        for p in parts
    ]
    half = (hi - lo) / 2 + max(p.width for p in parts) / 2
    return moved, float(half.max()), float(half.min())


def _outline_points(parts: Parts) -> np.ndarray:
    """All outline vertices of the parts, stacked (N, 2)."""
    return np.concatenate([p.outline for p in parts])


def _fits(pts: np.ndarray, inside: np.ndarray) -> bool:
    """Whether every (pixel) point falls inside the allowed mask."""
    x, y = np.round(pts[:, 0]).astype(int), np.round(pts[:, 1]).astype(int)
    h, w = inside.shape
    if x.min() < 0 or y.min() < 0 or x.max() >= w or y.max() >= h:
        return False
    return bool(inside[y, x].all())


def _place(
    parts: Parts,
    rng: Rng,
    bag: Bag,
    spots: np.ndarray,
    scale: float,
    taken: list[tuple[float, ...]] | None = None,
    tries: int = 60,
) -> Pose | None:
    """A random pose (any rotation, mirrored or not) that keeps the parts inside the bag, or None.

    The scale shrinks every 12 failed tries; `taken` boxes of other items must not overlap much.
    """
    local = _outline_points(parts)
    for attempt in range(tries):
        if attempt and attempt % 12 == 0:
            scale *= 0.85
        y, x = spots[int(rng.integers(len(spots)))]
        pose = Pose(scale, rng.uniform(0, 2 * np.pi), bool(rng.random() < 0.5), float(x), float(y))
        pts = pose.apply(local)
        if not _fits(pts, bag.interior):
            continue
        box = (*pts.min(0), *pts.max(0))
        if taken and max(_box_iou(box, t) for t in taken) > MAX_ITEM_OVERLAP:
            continue
        return pose
    return None


def _fallback_pose(parts: Parts, rng: Rng, bag: Bag) -> Pose:
    """A pose that always fits: centred on the interior's deepest point, scaled to its inscribed circle."""
    depth = cv2.distanceTransform(bag.interior, cv2.DIST_L2, 3)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    reach = float(np.linalg.norm(_outline_points(parts), axis=1).max())
    return Pose(
        0.95 * float(depth[y, x]) / max(reach, 1e-6),
        rng.uniform(0, 2 * np.pi),
        bool(rng.random() < 0.5),
        float(x),
        float(y),
    )


def _box_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def annotate(mask: np.ndarray) -> tuple[list[list[float]], list[int], int] | None:
    """COCO polygons of a mask's outer outlines, and the box and area of those polygons rasterised.

    Outlines are traced on the mask upsampled 2x and mapped back, which pycocotools rasterises to
    exactly the mask (holes filled), so the box is the mask's tight box even for 1-px-wide parts.
    """
    fine = cv2.resize(mask, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(fine, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = [[float(v) for v in ((c.reshape(-1, 2) + 0.5) / 2).ravel()] for c in contours if len(c) >= 3]
    if not polygons:
        return None
    h, w = mask.shape
    rle = to_rle(polygons, h, w)
    area = int(rle_area(rle))
    if area == 0:
        return None
    return polygons, [int(round(v)) for v in rle_box(rle)], area


def _hide(canvas: Canvas, bag: Bag, pose: Pose, rng: Rng, half_len: float, half_wid: float) -> None:
    """Bury an item: wind wire around it and/or lay dense clutter over it (kept inside the bag)."""
    choice = rng.random()
    layers = []
    if choice < 0.45:
        layers.append((wire_wrap(rng, half_len, half_wid), pose.angle, (0.0, 0.0)))
    if choice > 0.3:
        pile, _, _ = centred(cover_pile(rng, half_len, half_wid))
        layers.append((pile, pose.angle + rng.normal(0, 0.3), tuple(rng.normal(0, 0.15 * half_wid * pose.scale, 2))))
    for parts, angle, (dx, dy) in layers:
        local = _outline_points(parts)
        for shrink in (1.0, 0.85, 0.7, 0.55):
            layer_pose = Pose(pose.scale * shrink, angle, pose.flip, pose.cx + dx, pose.cy + dy)
            if _fits(layer_pose.apply(local), bag.interior):
                canvas.draw(parts, layer_pose)
                break


def _add_items(
    canvas: Canvas, bag: Bag, spots: np.ndarray, plan: ScanPlan, rng: Rng
) -> list[tuple[str, str, np.ndarray]]:
    """Draw the plan's prohibited items inside the bag; returns (class, model, coverage mask) per item."""
    drawn, taken = [], []
    reach = 0.45 * float(np.ptp(spots, axis=0).max())
    for class_name in plan.classes:
        model, parts = draw_item(class_name, rng)
        parts, half_len, half_wid = centred(parts)
        scale = bag.scale * rng.uniform(0.85, 1.15) * SIZE_BOOST.get(class_name, 1.0)
        pose = _place(parts, rng, bag, spots, min(scale, reach / half_len), taken, tries=120)
        if pose is None:
            pose = _fallback_pose(parts, rng, bag)
        mask = np.zeros((canvas.height, canvas.width), np.uint8)
        canvas.draw(parts, pose, mask)
        pts = pose.apply(_outline_points(parts))
        taken.append((*pts.min(0), *pts.max(0)))
        drawn.append((class_name, model, mask))
        if plan.hidden:
            _hide(canvas, bag, pose, rng, half_len, half_wid)
    return drawn


def _pack_clothes(canvas: Canvas, bag: Bag, style: dict, rng: Rng) -> None:
    """Lay folded garments in layers, side by side along the bag's axes as packed clothes lie, each layer drawn where
    the fan beam puts its height, in the room the bag leaves them (cut to its shape, thinning out over its edges).
    A folded garment spans 0.85-1.25 of its place, so stacks overlap in some bags and leave the bag's floor showing
    between them in others, as real ones do."""
    w, length = bag.size
    count = int(rng.integers(*style["garment_layers"], endpoint=True))
    for k in range(count):
        frame = bag.level((k + 0.5) / count)
        cols, rows = int(rng.integers(1, 4)), int(rng.integers(2, 5))
        cw, ch = w / cols, length / rows
        for i in range(cols):
            for j in range(rows):
                if rng.random() < style["garment_gaps"]:
                    continue
                u, v = -w / 2 + (i + rng.uniform(0.3, 0.7)) * cw, -length / 2 + (j + rng.uniform(0.3, 0.7)) * ch
                gw, gh = cw * rng.uniform(0.85, 1.25), ch * rng.uniform(0.85, 1.25)
                turn = rng.normal(0, 0.1) + (np.pi / 2 if rng.random() < 0.2 else 0.0)
                if turn > 1:
                    gw, gh = gh, gw
                x, y = frame.apply(np.array([[u, v]]))[0]
                pose = Pose(bag.scale, frame.angle + turn, False, float(x), float(y), frame.stretch, frame.fan)
                canvas.draw(centred(garment(rng, gw, gh, style["cloth_density"]))[0], pose, clip=bag.room)


def _pack(canvas: Canvas, bag: Bag, spots: np.ndarray, style: dict, rng: Rng) -> None:
    """Fill the bag with garments, loose small metal bits and other benign objects."""
    _pack_clothes(canvas, bag, style, rng)
    floor = np.argwhere(bag.room > 0)
    for _ in range(int(rng.integers(*style["trinkets"], endpoint=True))):
        y, x = floor[int(rng.integers(len(floor)))]
        canvas.draw(trinket(rng), Pose(bag.scale, rng.uniform(0, 2 * np.pi), False, float(x), float(y)))
    for _ in range(int(rng.integers(*style["clutter"], endpoint=True))):
        parts, _, _ = centred(draw_clutter(rng))
        pose = _place(parts, rng, bag, spots, bag.scale * rng.uniform(0.85, 1.15), tries=15)
        if pose is not None:
            canvas.draw(parts, pose)


def expose(plan: ScanPlan, rng: Rng) -> Exposure:
    """Pack and scan one bag for `plan`: what the detector measures, before the display colours it."""
    style = STYLES[plan.style]
    bag = make_bag(rng, plan.style)
    canvas = Canvas(bag.height, bag.width)
    bag.draw(canvas)
    spots = np.argwhere(bag.interior > 0)
    items = _add_items(canvas, bag, spots, plan, rng)
    _pack(canvas, bag, spots, style, rng)
    a_low, a_high = attenuation(canvas.thickness)
    footprint = a_high > 0
    a_low, a_high = observe(a_low, a_high, rng, style["noise"], style["streaks"])
    return Exposure(a_low, a_high, items, footprint)


def render_scan(plan: ScanPlan, rng: Rng) -> Scan:
    """Render one scan for `plan`, fully determined by `rng`."""
    exposure = expose(plan, rng)
    image = colourise(exposure.a_low, exposure.a_high, palette(plan.style))
    objects = []
    for class_name, model, mask in exposure.items:
        ann = annotate(mask)
        if ann is not None:
            objects.append(ScanObject(class_name, model, *ann))
    footprint = exposure.footprint
    ys, xs = np.nonzero(footprint.any(axis=1))[0], np.nonzero(footprint.any(axis=0))[0]
    return Scan(image, objects, (int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1))
