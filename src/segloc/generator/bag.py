"""Bags and their benign contents: the bag shell (suitcase, duffel, tote) and clutter objects.

The bag is built directly in pixels; clutter is built in millimetres like the prohibited items and
posed inside the bag. Every bag is dense enough to read clearly darker than the belt (its fabric
alone attenuates like ~3-5 cm of organic matter), which the authentic-region algorithm relies on.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from segloc.generator.geometry import (
    Part, Points, blob, capsule, coil, ellipse, poly, rect, rotate, rounded_rect, shift, taper, wander,
)
from segloc.generator.shapes import Parts, Rng, disc, hollow, plate, ring, solid, stroke


@dataclass
class Bag:
    """A bag in pixel coordinates: parts, outline, its inside, the (eroded) interior where contents go, px/mm."""

    parts: Parts
    outline: Points
    inside: np.ndarray
    interior: np.ndarray
    scale: float


def _fabric(outline: Points, rng: Rng, style: str) -> Parts:
    """Bag fabric: a thin layer over the whole bag and a dense rim where the walls are seen edge-on.

    The rim keeps the bag's extent clearly darker than the belt even where the bag is nearly empty.
    PIDray-style bags are PVC-coated (chlorine, Z=17: reads like a light metal, pale green) and thin;
    SIXray-style bags are thick woven fabric (orange).
    """
    closed = np.concatenate([outline, outline[:1]])
    if style == "pidray":
        parts = [plate(outline, "organic", rng.uniform(0.2, 0.6)), hollow(outline, "organic", rng.uniform(0.2, 0.5)),
                 stroke(closed, rng.uniform(14, 18), "organic", rng.uniform(0.8, 1.4), "flat"),
                 stroke(closed, rng.uniform(14, 18), "aluminium", rng.uniform(0.75, 1.0), "flat")]
        if rng.random() < 0.7:
            parts.append(plate(outline, "aluminium", rng.uniform(0.03, 0.12)))
    else:
        parts = [plate(outline, "organic", rng.uniform(0.3, 1.0)), hollow(outline, "organic", rng.uniform(0.4, 1.0)),
                 stroke(closed, rng.uniform(14, 20), "organic", rng.uniform(2.6, 3.6), "flat"),
                 stroke(closed, rng.uniform(6, 12), "aluminium", rng.uniform(0.3, 0.6), "flat")]
        if rng.random() < 0.8:  # hard shells and coated nylon read green over their whole area
            parts.append(plate(outline, "aluminium", rng.uniform(0.3, 0.7)))
    return parts + _seams(closed, rng)


def _seams(closed: Points, rng: Rng) -> Parts:
    """Uneven stretches of doubled fabric and piping along the rim, so the walls do not read as a tray."""
    parts: Parts = []
    n = len(closed)
    for _ in range(int(rng.integers(3, 7))):
        start, span = int(rng.integers(n)), int(rng.integers(3, max(4, n // 3)))
        idx = np.arange(start, start + span) % n
        parts.append(stroke(closed[idx], rng.uniform(4, 12), "organic", rng.uniform(0.4, 1.2), "flat"))
    parts.append(stroke(closed, rng.uniform(2, 4), "organic", rng.uniform(0.8, 1.6), "flat"))
    return parts


def _suitcase(rng: Rng, w: float, h: float, style: str) -> Parts:
    """Suitcase: rounded box, steel wire frame, trolley rails, wheels and zip."""
    outline = rounded_rect(-w / 2, -h / 2, w / 2, h / 2, rng.uniform(0.05, 0.15) * min(w, h), 6)
    inset = rng.uniform(6, 10)
    frame = rounded_rect(-w / 2 + inset, -h / 2 + inset, w / 2 - inset, h / 2 - inset, 0.1 * min(w, h), 6)
    parts = _fabric(outline, rng, style) + [
        stroke(np.concatenate([frame, frame[:1]]), rng.uniform(2, 3.5), "iron", 0.2, "flat"),
    ]
    if rng.random() < (0.25 if style == "pidray" else 0.6):
        gap = rng.uniform(0.25, 0.4) * h
        for y in (-gap / 2, gap / 2):
            parts.append(hollow(rect(-w / 2 + inset * 2, y - 5, w / 2 - inset * 2, y + 5), "aluminium", rng.uniform(0.3, 0.7)))
    for cx, cy in ((w / 2 - 18, h / 2 - 18), (w / 2 - 18, -h / 2 + 18)):
        parts += [disc(cx, cy, 11, "organic", 2.5), disc(cx, cy, 3, "iron", 0.8)]
    zip_path = rounded_rect(-w / 2 + 3 * inset, -h / 2 + 3 * inset, w / 2 - 3 * inset, h / 2 - 3 * inset, 20, 4)
    parts.append(stroke(np.concatenate([zip_path, zip_path[:1]]), 2, "iron", 0.15, "flat"))
    return parts


def _duffel(rng: Rng, w: float, h: float, style: str) -> Parts:
    """Soft duffel or backpack: irregular outline, straps, zips and buckles."""
    outline = blob(rng, 0, 0, w / 2 * 0.97, h / 2 * 0.97, roughness=0.1, n=48)
    parts = _fabric(outline, rng, style)
    for _ in range(int(rng.integers(1, 4))):
        y = rng.uniform(-h / 3, h / 3)
        parts.append(stroke(np.array([(-w * 0.4, y), (0, y + rng.uniform(-20, 20)), (w * 0.4, y)]),
                            rng.uniform(12, 20), "organic", 1.2, "flat"))
        parts.append(plate(rect(-6, y - 9, 6, y + 9), "iron", 0.4))
    zip_path = ellipse(0, 0, w * 0.38, h * 0.36, 30, rng.uniform(0, 3), rng.uniform(3.5, 6))
    parts.append(stroke(zip_path, 2.5, "iron", 0.2, "flat"))
    return parts


def _tote(rng: Rng, w: float, h: float, style: str) -> Parts:
    """Tote or handbag: a trapezoid body with two thick handles inside the bag's extent."""
    body_top = -h / 2 + h * 0.3
    outline = poly((-w / 2 * 0.8, body_top), (w / 2 * 0.8, body_top), (w / 2, h / 2), (-w / 2, h / 2))
    parts = _fabric(outline, rng, style)
    for side in (-1, 1):
        arc = ellipse(side * w * 0.2, body_top + 6, w * 0.11, h * 0.3 - 12, 14, np.pi, 2 * np.pi)
        parts += [stroke(arc, 16, "organic", 4.0, "flat"), stroke(arc, 3, "iron", 0.2, "flat")]
    return parts


def _backpack(rng: Rng, w: float, h: float, style: str) -> Parts:
    """Backpack: soft rounded body, front pocket, shoulder straps with steel buckles, zips."""
    outline = rounded_rect(-w / 2, -h / 2, w / 2, h / 2, rng.uniform(0.25, 0.4) * min(w, h), 8)
    outline = outline + rng.normal(0, 2.0, outline.shape)
    parts = _fabric(outline, rng, style)
    pocket = rounded_rect(-w * 0.3, h * 0.02, w * 0.3, h * 0.4, 20, 4)
    parts += [hollow(pocket, "organic", 1.0), stroke(np.concatenate([pocket, pocket[:1]]), 3, "organic", 1.5, "flat"),
              stroke(pocket[len(pocket) // 2:], 2.5, "iron", 0.2, "flat")]
    for side in (-1, 1):
        strap = np.array([(side * w * 0.2, -h * 0.42), (side * w * 0.3, 0), (side * w * 0.22, h * 0.42)])
        parts += [stroke(strap, rng.uniform(18, 26), "organic", 1.4, "flat"),
                  plate(rect(side * w * 0.3 - 10, -8, side * w * 0.3 + 10, 8), "iron", 0.35, holes=(rect(side * w * 0.3 - 6, -4, side * w * 0.3 + 6, 4),))]
    return parts


BAG_KINDS: tuple[Callable[[Rng, float, float, str], Parts], ...] = (_suitcase, _duffel, _backpack, _tote)


BELT_MARGIN = 8  # px of empty belt kept around the bag's footprint


def make_bag(rng: Rng, width: int, height: int, style: str) -> Bag:
    """Lay one bag on a width x height belt image, leaving a white margin around it."""
    if style == "pidray":
        w, h = width * rng.uniform(0.7, 0.92), height * rng.uniform(0.66, 0.9)
    else:
        w, h = width * rng.uniform(0.86, 0.96), height * rng.uniform(0.84, 0.95)
    angle = rng.normal(0, 0.06 if style == "pidray" else 0.04)
    kind = BAG_KINDS[int(rng.choice(len(BAG_KINDS), p=(0.35, 0.25, 0.25, 0.15)))]
    parts = kind(rng, w, h, style)
    pts = rotate(np.concatenate([p.outline for p in parts]), angle)
    reach = max(p.width for p in parts) / 2 + BELT_MARGIN
    size = pts.max(0) - pts.min(0)
    fit = min(1.0, (width - 2 * reach) / size[0], (height - 2 * reach) / size[1]) * 0.999
    lo, hi = pts.min(0) * fit, pts.max(0) * fit
    cx = rng.uniform(reach - lo[0], width - reach - hi[0])
    cy = rng.uniform(reach - lo[1], height - reach - hi[1])

    def place(pts: Points) -> Points:
        return shift(rotate(pts, angle) * fit, cx, cy)

    parts = [Part(place(p.outline), p.material, p.thickness, p.profile, p.width, tuple(place(q) for q in p.holes))
             for p in parts]
    body = parts[0].outline
    inside = np.zeros((height, width), np.uint8)
    cv2.fillPoly(inside, [np.round(body * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    interior = cv2.erode(inside, np.ones((15, 15), np.uint8))
    scale = w * fit / rng.uniform(480, 620)
    return Bag(parts, body, inside, interior, scale)


# --- clutter (millimetres) ---------------------------------------------------------------------

def clothes(rng: Rng, density: float = 1.0) -> Parts:
    """A folded garment: a few stacked layers of cloth with crisp hems, creases and sometimes a zip."""
    rx, ry = rng.uniform(60, 170), rng.uniform(40, 110)
    parts = [plate(blob(rng, 0, 0, rx, ry, 0.35), "organic", density * rng.uniform(1.0, 3.0))]
    for _ in range(int(rng.integers(1, 4))):
        layer = blob(rng, rng.uniform(-0.3, 0.3) * rx, rng.uniform(-0.3, 0.3) * ry, rx * rng.uniform(0.3, 0.7),
                     ry * rng.uniform(0.3, 0.7), 0.3)
        parts.append(plate(layer, "organic", density * rng.uniform(0.5, 1.5)))
    for _ in range(int(rng.integers(2, 6))):
        start = (rng.uniform(-0.6, 0.6) * rx, rng.uniform(-0.6, 0.6) * ry)
        crease = wander(rng, start, int(rng.integers(3, 7)), min(rx, ry) * 0.25, 0.35)
        parts.append(stroke(crease, rng.uniform(3, 9), "organic", density * rng.uniform(0.3, 0.9)))
    if rng.random() < 0.3:
        seam = ellipse(0, 0, rx * 0.8, ry * 0.8, 20, rng.uniform(0, 3), rng.uniform(3.5, 6))
        parts.append(stroke(seam, 2.0, "iron", 0.12, "flat"))
    if rng.random() < 0.3:  # coated fabric, leather, PVC (chlorine), mineral fillers: reads yellow-green to green
        parts.append(plate(parts[0].outline, "aluminium", parts[0].thickness * rng.uniform(0.2, 0.45)))
    return parts


def shoe(rng: Rng) -> Parts:
    """A shoe seen from above: thick sole, steel shank, eyelets."""
    length = rng.uniform(240, 290)
    sole = np.concatenate([ellipse(length * 0.7, 0, length * 0.3, 45, 14, -np.pi / 2, np.pi / 2),
                           ellipse(length * 0.18, 0, length * 0.18, 36, 12, np.pi / 2, 3 * np.pi / 2)])
    parts = [solid(sole, "organic", rng.uniform(3.5, 6.0)), solid(sole, "aluminium", rng.uniform(0.2, 0.6)),
             plate(rect(length * 0.25, -5, length * 0.5, 5), "iron", 0.15)]
    parts += [disc(length * (0.5 + 0.05 * k), s * 14, 2, "iron", 0.2) for k in range(4) for s in (-1, 1)]
    return parts


def bottle(rng: Rng) -> Parts:
    """Plastic or glass bottle with liquid, or an aluminium drinks can."""
    kind = rng.integers(3)
    if kind == 2:
        return [hollow(rounded_rect(0, -33, 122, 33, 6), "aluminium", 0.12), solid(rect(2, -31, 100, 31), "organic", 5.0)]
    length, d = rng.uniform(180, 280), rng.uniform(55, 80)
    wall = ("organic", 0.3) if kind == 0 else ("aluminium", 0.6)
    outline = np.concatenate([rounded_rect(0, -d / 2, length * 0.72, d / 2, 10), taper(length * 0.72, length, d * 0.9, d * 0.35)[[1, 2]]])
    neck = rect(length - 2, -d * 0.2, length + 20, d * 0.2)
    return [hollow(outline, *wall), solid(rect(4, -d / 2 + 3, length * rng.uniform(0.3, 0.7), d / 2 - 3), "organic", d / 10 * 0.85),
            hollow(neck, "organic", 0.6)]


def laptop(rng: Rng) -> Parts:
    """Laptop or tablet: aluminium shell, battery, board, screws."""
    w, h = (rng.uniform(280, 340), rng.uniform(190, 230)) if rng.random() < 0.6 else (rng.uniform(180, 250), rng.uniform(130, 170))
    battery = rect(w * 0.1, h * 0.55, w * 0.9, h * 0.92)
    parts = [hollow(rounded_rect(0, 0, w, h, 8), "aluminium", 0.45), plate(battery, "copper", 0.04),
             plate(battery, "organic", 0.6), plate(rect(w * 0.2, h * 0.1, w * 0.7, h * 0.45), "copper", 0.03),
             plate(rect(w * 0.2, h * 0.1, w * 0.7, h * 0.45), "organic", 0.2)]
    parts += [disc(x, y, 2.5, "iron", 0.4) for x in (8, w - 8) for y in (8, h - 8)]
    return parts


def phone(rng: Rng) -> Parts:
    """Phone: glass and aluminium slab, battery, camera module."""
    w, h = rng.uniform(140, 165), rng.uniform(68, 78)
    return [hollow(rounded_rect(0, 0, w, h, 9), "aluminium", 0.4), plate(rect(w * 0.3, 6, w * 0.9, h - 6), "copper", 0.04),
            plate(rect(w * 0.3, 6, w * 0.9, h - 6), "organic", 0.5), plate(rect(8, 8, 22, 22), "iron", 0.4)]


def cable(rng: Rng) -> Parts:
    """Charging cable: copper core in a plastic sheath, plug at each end."""
    path = wander(rng, (0, 0), int(rng.integers(8, 22)), rng.uniform(14, 26), 0.6)
    parts = [stroke(path, 4.0, "organic", 0.45), stroke(path, 1.4, "copper", 0.12)]
    for end, prev in ((path[0], path[1]), (path[-1], path[-2])):
        a = np.arctan2(*(end - prev)[::-1])
        parts += [solid(shift(rotate(rect(0, -5, 18, 5), a), *end), "organic", 1.2),
                  plate(shift(rotate(rect(14, -3, 24, 3), a), *end), "iron", 0.25)]
    return parts


def charger(rng: Rng) -> Parts:
    """Wall charger: plastic block with a transformer and pins, plus its cable."""
    s = rng.uniform(40, 60)
    return [solid(rounded_rect(0, 0, s, s * 0.9, 6), "organic", 3.0), plate(rect(s * 0.3, s * 0.3, s * 0.7, s * 0.6), "iron", 0.8),
            plate(rect(s * 0.3, s * 0.3, s * 0.7, s * 0.6), "copper", 0.3), plate(rect(s, s * 0.2, s + 16, s * 0.3), "iron", 0.3),
            plate(rect(s, s * 0.6, s + 16, s * 0.7), "iron", 0.3)] + cable(rng)


def coins(rng: Rng) -> Parts:
    """A few coins in a small heap."""
    return [disc(rng.normal(0, 12), rng.normal(0, 12), rng.uniform(9, 14), str(rng.choice(["copper", "iron"])), 0.18)
            for _ in range(int(rng.integers(2, 7)))]


def keys(rng: Rng) -> Parts:
    """Two to four brass or steel keys on a split ring."""
    parts = [ring(0, 0, 12, 1.6, "iron", 0.2)]
    base = rng.uniform(0, 2 * np.pi)
    for k in range(int(rng.integers(2, 5))):
        length = rng.uniform(45, 60)
        teeth = [(x, 3.5 + (2.5 if k % 2 else 0)) for k, x in enumerate(np.linspace(length * 0.45, length * 0.95, 7))]
        key = np.concatenate([rounded_rect(0, -11, 20, 11, 6), poly((20, -3.5), (length, -3.5), (length + 3, 0), *teeth[::-1], (20, 3.5))])
        a = base + 0.45 * k + rng.normal(0, 0.1)
        material = "copper" if rng.random() < 0.7 else "iron"
        dx, dy = 7 * np.cos(a), 7 * np.sin(a)
        parts.append(plate(shift(rotate(key, a), dx, dy), material, 0.22,
                           holes=(shift(rotate(ellipse(5, 0, 2.5, 2.5, 8), a), dx, dy),)))
    return parts


def umbrella(rng: Rng) -> Parts:
    """Folded umbrella: aluminium shaft, thin steel ribs, fabric, plastic handle."""
    length = rng.uniform(230, 320)
    parts = [hollow(rect(0, -5, length, 5), "aluminium", 0.4), plate(taper(20, length, 50, 20), "organic", 0.5),
             solid(capsule(-40, 0, 0, 0, 11), "organic", 2.2)]
    parts += [stroke(np.array([(20, y), (length, y * 0.4)]), 1.5, "iron", 0.12) for y in np.linspace(-20, 20, 5)]
    return parts


def book(rng: Rng) -> Parts:
    """Book or stack of papers."""
    w, h = rng.uniform(140, 240), rng.uniform(110, 170)
    return [plate(rect(0, 0, w, h), "organic", rng.uniform(1.0, 3.0)), hollow(rect(0, 0, w, h), "organic", 0.8),
            plate(rect(0, h * 0.45, w, h * 0.55), "organic", 0.3)]


def toiletries(rng: Rng) -> Parts:
    """Toiletry bag contents: a tube, a small bottle, a razor."""
    return [hollow(taper(0, 120, 35, 45), "organic", 1.2), plate(rect(118, -10, 128, 10), "organic", 1.0),
            hollow(rounded_rect(0, 40, 90, 80, 8), "aluminium", 0.5), solid(rect(5, 42, 70, 78), "organic", 2.5),
            plate(rect(0, -50, 110, -42), "organic", 1.0), plate(rect(110, -56, 125, -36), "iron", 0.2)]


def belt(rng: Rng) -> Parts:
    """Coiled leather belt with a steel buckle."""
    path = ellipse(0, 0, rng.uniform(45, 70), rng.uniform(40, 60), 30, 0, rng.uniform(3, 9))
    return [stroke(path, 30, "organic", 0.6, "flat"), plate(rect(-6, -20, 30, 20), "iron", 0.3, holes=(rect(0, -14, 24, 14),))]


def spring_wire(rng: Rng) -> Parts:
    """Loose steel wire: a spring or a bent hanger."""
    if rng.random() < 0.5:
        return [stroke(coil(0, 0, rng.uniform(40, 90), rng.uniform(6, 12), int(rng.integers(6, 14))), 1.2, "iron", 0.15)]
    return [stroke(wander(rng, (0, 0), int(rng.integers(4, 10)), rng.uniform(20, 40), 0.5), 2.0, "iron", 0.2)]


def batteries(rng: Rng) -> Parts:
    """A few AA cells: steel cans with copper/organic cores."""
    parts: Parts = []
    for k in range(int(rng.integers(1, 5))):
        cell = rect(0, 15 * k, 50, 15 * k + 14)
        parts += [hollow(cell, "iron", 0.06), plate(cell, "copper", 0.15), solid(cell, "organic", 1.0)]
    return parts


def headphones(rng: Rng) -> Parts:
    """Over-ear headphones: plastic band, two cups with magnets."""
    r = rng.uniform(70, 90)
    band = ellipse(0, 0, r, r, 20, np.pi, 2 * np.pi)
    return [stroke(band, 12, "organic", 1.2), plate(rect(-r - 4, -6, -r + 4, 0), "iron", 0.3),
            solid(ellipse(-r, 25, 30, 38, 20), "organic", 3.0), solid(ellipse(r, 25, 30, 38, 20), "organic", 3.0),
            disc(-r, 25, 12, "iron", 0.5), disc(r, 25, 12, "iron", 0.5)]


CLUTTER: tuple[tuple[Callable[[Rng], Parts], float], ...] = (
    (clothes, 5.0), (shoe, 0.8), (bottle, 1.2), (laptop, 0.6), (phone, 0.6), (cable, 1.5), (charger, 0.6),
    (coins, 0.6), (keys, 0.6), (umbrella, 0.4), (book, 0.8), (toiletries, 0.6), (belt, 0.5), (spring_wire, 0.6),
    (batteries, 0.5), (headphones, 0.4),
)


def draw_clutter(rng: Rng) -> Parts:
    """One benign object, drawn by frequency (clothes most often)."""
    weights = np.array([w for _, w in CLUTTER])
    make = CLUTTER[int(rng.choice(len(CLUTTER), p=weights / weights.sum()))][0]
    return make(rng)


def wire_wrap(rng: Rng, half_length: float, half_width: float) -> Parts:
    """Loops of wire wound around an item (hidden split): ellipses around its long axis."""
    parts: Parts = []
    material = str(rng.choice(["iron", "copper"]))
    for _ in range(int(rng.integers(4, 10))):
        rx, ry = half_length * rng.uniform(0.3, 1.1), half_width * rng.uniform(1.0, 2.5) + 6
        loop = ellipse(rng.normal(0, half_length * 0.2), rng.normal(0, 3), rx, ry, 24, 0, 2 * np.pi + 1e-9)
        parts.append(stroke(rotate(loop, rng.normal(0, 0.3)), rng.uniform(1.0, 2.5), material, rng.uniform(0.12, 0.3), "flat"))
    return parts


def cover_pile(rng: Rng, half_length: float, half_width: float) -> Parts:
    """Dense clutter laid over an item (hidden split): thick garments, a laptop or a metal tray."""
    kind = rng.integers(3)
    if kind == 0:
        return [solid(blob(rng, rng.normal(0, 10), rng.normal(0, 10), half_length * rng.uniform(0.8, 1.3) + 20,
                           half_width * rng.uniform(1.2, 2.5) + 20, 0.2), "organic", rng.uniform(5.0, 9.0)) for _ in range(2)]
    if kind == 1:
        return laptop(rng)
    w, h = half_length * rng.uniform(1.1, 1.6) + 10, half_width * rng.uniform(1.5, 3.0) + 10
    return [plate(rect(-w, -h, w, h), "aluminium", rng.uniform(0.3, 0.7)), solid(blob(rng, 0, 0, w * 0.8, h * 0.8), "organic", 3.0)]
