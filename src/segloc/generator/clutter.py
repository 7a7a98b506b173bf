"""Benign bag contents in millimetres: folded clothes, and everyday objects full of small dense parts.

``garment`` builds the layered clothing a bag is packed with; ``draw_clutter`` picks one of the other
objects by how often it turns up in real bags; ``trinket`` is one of the small loose metal bits strewn
everywhere. ``wire_wrap`` and ``cover_pile`` bury prohibited items.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from segloc.generator.fittings import chain, rivet, screw, tube, zip_line
from segloc.generator.geometry import (
    blob,
    capsule,
    coil,
    ellipse,
    poly,
    rect,
    rotate,
    rounded_rect,
    shift,
    taper,
    wander,
)
from segloc.generator.shapes import Parts, Rng, disc, filled, hollow, plate, ring, solid, stroke


def _ragged(outline: np.ndarray, rng: Rng, amount: float) -> np.ndarray:
    """An outline with its vertices jittered: cloth never has straight edges."""
    return outline + rng.normal(0, amount, outline.shape)


def garment(rng: Rng, w: float, h: float, density: float = 1.0) -> Parts:
    """A piece of clothing folded to about w x h mm (or rolled): stacked cloth layers with hems, seams and
    its fastenings."""
    u = (
        rng.random()
    )  # synthetic fibres are pure organic; cotton and wool hold some mineral; coated fabric, leather more
    mineral = rng.uniform(0.35, 0.8) if u < 0.1 else rng.uniform(0.02, 0.1) if u < 0.25 else 0.0
    parts: Parts = []
    if rng.random() < 0.8:  # folded flat: offset layers of a roughly rectangular shape
        for _ in range(int(rng.integers(2, 6))):
            dx, dy = rng.normal(0, 0.06 * w), rng.normal(0, 0.06 * h)
            sw, sh = w * rng.uniform(0.7, 1.0), h * rng.uniform(0.6, 1.0)
            layer = _ragged(
                rounded_rect(dx - sw / 2, dy - sh / 2, dx + sw / 2, dy + sh / 2, rng.uniform(5, 30), 4), rng, 3
            )
            parts += filled(layer, density * rng.uniform(0.15, 0.4), mineral, "cloth")
            if rng.random() < 0.8:  # hem or fold seen edge-on
                parts.append(
                    stroke(
                        np.concatenate([layer, layer[:1]]),
                        rng.uniform(2, 5),
                        "organic",
                        density * rng.uniform(0.4, 1.0),
                        "flat",
                    )
                )
        for _ in range(int(rng.integers(2, 7))):  # folds and creases, mostly along the garment
            x = rng.uniform(-0.4, 0.4) * w
            fold = wander(rng, (x, -h * rng.uniform(0.3, 0.5)), 4, h * rng.uniform(0.15, 0.25), 0.08, np.pi / 2)
            parts.append(stroke(fold, rng.uniform(2, 5), "organic", density * rng.uniform(0.1, 0.3), "flat"))
        if rng.random() < 0.4:  # sleeves folded across
            for side in (-1, 1):
                parts.append(
                    plate(
                        _ragged(capsule(side * w * 0.35, -h * 0.4, side * w * 0.05, h * 0.3, 35), rng, 3),
                        "organic",
                        density * rng.uniform(0.2, 0.5),
                    )
                )
    else:  # rolled or crumpled
        parts += filled(blob(rng, 0, 0, w * 0.45, h * 0.4, 0.35), density * rng.uniform(0.5, 1.0), mineral, "cloth")
        for _ in range(int(rng.integers(3, 8))):
            start = (rng.uniform(-0.35, 0.35) * w, rng.uniform(-0.3, 0.3) * h)
            crease = wander(rng, start, int(rng.integers(3, 7)), min(w, h) * 0.12, 0.5)
            parts.append(stroke(crease, rng.uniform(3, 10), "organic", density * rng.uniform(0.3, 0.8), "flat"))
    u = rng.random()
    if u < 0.2:  # jeans: zip fly, button, rivets
        parts += zip_line(np.array([(0, -h * 0.2), (rng.normal(0, 5), h * 0.1)]), rng)
        parts += [disc(0, -h * 0.25, 8, "iron", 0.25)] + [
            p for _ in range(4) for p in rivet(*rng.uniform(-0.3, 0.3, 2) * (w, h), rng)
        ]
    elif u < 0.4:  # shirt or coat buttons
        x0 = rng.uniform(-0.2, 0.2) * w
        parts += [
            disc(x0 + rng.normal(0, 2), y, rng.uniform(4, 8), str(rng.choice(["organic", "aluminium"])), 0.3)
            for y in np.linspace(-h * 0.35, h * 0.35, int(rng.integers(3, 7)))
        ]
    elif u < 0.5:  # jacket zip
        parts += zip_line(np.array([(rng.normal(0, 10), -h * 0.45), (rng.normal(0, 10), h * 0.45)]), rng)
    return parts


def shoes(rng: Rng) -> Parts:
    """A pair of shoes: thick soles, steel shanks, eyelets and a few nails."""
    parts: Parts = []
    length = rng.uniform(240, 290)
    for side in (-1, 1):
        y = side * rng.uniform(45, 60)
        sole = np.concatenate(
            [
                ellipse(length * 0.7, y, length * 0.3, 42, 14, -np.pi / 2, np.pi / 2),
                ellipse(length * 0.18, y, length * 0.18, 34, 12, np.pi / 2, 3 * np.pi / 2),
            ]
        )
        parts += filled(sole, rng.uniform(0.8, 1.8), rng.uniform(0.35, 0.7))
        parts += [
            stroke(np.concatenate([sole, sole[:1]]), 6, "organic", 0.8, "flat"),
            plate(rect(length * 0.22, y - 5, length * 0.5, y + 5), "iron", rng.uniform(0.1, 0.2)),
        ]
        parts += [disc(length * (0.5 + 0.05 * k), y + s * 14, 2.5, "iron", 0.12) for k in range(4) for s in (-1, 1)]
        parts += [
            disc(x, y + rng.normal(0, 15), 1.5, "iron", 0.2) for x in rng.uniform(10, 80, int(rng.integers(0, 6)))
        ]
    return parts


def bottle(rng: Rng) -> Parts:
    """Plastic or glass bottle of liquid with a cap, or an aluminium drinks can."""
    kind = rng.integers(3)
    if kind == 2:
        return [
            hollow(rounded_rect(0, -33, 122, 33, 6), "aluminium", 0.1),
            plate(rect(2, -31, 120, 31), "organic", 4.0),
            ring(122, 0, 30, 3, "aluminium", 0.2),
        ]
    length, d = rng.uniform(150, 260), rng.uniform(45, 75)
    wall = ("organic", 0.3) if kind == 0 else ("aluminium", 0.5)
    outline = np.concatenate(
        [rounded_rect(0, -d / 2, length * 0.72, d / 2, 10), taper(length * 0.72, length, d * 0.9, d * 0.35)[[1, 2]]]
    )
    parts = [
        hollow(outline, *wall),
        plate(rect(4, -d / 2 + 3, length * rng.uniform(0.3, 0.7), d / 2 - 3), "organic", d / 10 * 0.6),
        plate(rect(length - 2, -d * 0.2, length + 18, d * 0.2), "organic", 1.0),
    ]
    if rng.random() < 0.4:  # pump or spray head with a steel spring
        parts += [
            stroke(coil(length + 30, 0, 22, 4, 6), 0.8, "iron", 0.1),
            plate(rect(6, -1.5, length + 40, 1.5), "organic", 0.3),
        ]
    return parts


def toiletries(rng: Rng) -> Parts:
    """Wash bag: tubes, small bottles, a razor, nail clippers and tweezers, zipped in a pouch."""
    w, h = rng.uniform(180, 260), rng.uniform(100, 150)
    parts: Parts = [plate(rounded_rect(0, 0, w, h, 20), "organic", 0.2)]
    parts += zip_line(np.array([(10, 6), (w - 10, 6)]), rng)
    parts += [
        hollow(shift(taper(0, 110, 30, 40), 15, 35), "aluminium", 0.1),
        plate(shift(taper(2, 100, 26, 36), 15, 35), "organic", 1.2),
    ]
    parts += filled(rect(142, 40, 178, 98), rng.uniform(1.5, 3.0), rng.uniform(0.35, 0.7))
    parts += [hollow(rounded_rect(140, 20, 180, 100, 8), "organic", 0.4), plate(rect(145, 10, 175, 22), "organic", 1.5)]
    parts += [
        plate(rect(20, 80, 120, 88), "organic", 1.0),
        plate(rect(120, 76, 135, 92), "iron", 0.12),
        stroke(np.array([(122, 78), (133, 78)]), 0.8, "iron", 0.2, "flat"),
    ]
    parts += [
        plate(poly((30, 100), (85, 97), (85, 103)), "iron", 0.12),
        plate(poly((30, 108), (85, 105), (85, 111)), "iron", 0.12),
    ]
    parts += [plate(shift(rounded_rect(0, 0, 55, 14, 4), 150, 110), "iron", 0.2)]
    return parts


def laptop(rng: Rng) -> Parts:
    """Laptop or tablet: aluminium shell, battery cells, board with chips, fan, hinge, screws."""
    w, h = (
        (rng.uniform(280, 340), rng.uniform(190, 230))
        if rng.random() < 0.6
        else (rng.uniform(180, 250), rng.uniform(130, 170))
    )
    battery = rect(w * 0.08, h * 0.58, w * 0.92, h * 0.92)
    board = rect(w * 0.15, h * 0.08, w * 0.75, h * 0.5)
    parts = [
        hollow(rounded_rect(0, 0, w, h, 8), "aluminium", 0.35),
        plate(battery, "copper", 0.03),
        plate(battery, "organic", 0.5),
        plate(board, "copper", 0.02),
        *filled(board, 0.16, 0.6),
        stroke(np.array([(0, 4), (w, 4)]), 6, "iron", 0.2, "flat"),
    ]
    for x in np.linspace(w * 0.1, w * 0.9, int(rng.integers(2, 5)) + 1)[:-1]:
        parts.append(stroke(np.array([(x + 2, h * 0.58), (x + 2, h * 0.92)]), 1.5, "aluminium", 0.3, "flat"))
    parts += _chips(w * 0.15, h * 0.08, w * 0.75, h * 0.5, int(rng.integers(6, 14)), rng)
    if rng.random() < 0.6:
        parts += [ring(w * 0.82, h * 0.25, 22, 3, "aluminium", 0.3), disc(w * 0.82, h * 0.25, 7, "copper", 0.15)]
    parts += [disc(x, y, 2.5, "iron", 0.3) for x in np.linspace(8, w - 8, 4) for y in (8, h - 8)]
    return parts


def _chips(x0: float, y0: float, x1: float, y1: float, count: int, rng: Rng) -> Parts:
    """Chips, capacitors and connectors scattered on a circuit board."""
    parts: Parts = []
    for _ in range(count):
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        u = rng.random()
        if u < 0.5:
            s = rng.uniform(4, 14)
            parts.append(plate(rect(cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2), "copper", rng.uniform(0.03, 0.08)))
        elif u < 0.8:
            parts.append(disc(cx, cy, rng.uniform(2, 5), "aluminium", rng.uniform(0.3, 0.6)))
        else:
            parts.append(plate(rect(cx - 8, cy - 3, cx + 8, cy + 3), "iron", 0.15))
    return parts


def gadget(rng: Rng) -> Parts:
    """A small electronic device (camera, speaker, router, game pad): plastic case, board, chips, screws."""
    w, h = rng.uniform(60, 150), rng.uniform(40, 100)
    parts = [
        hollow(rounded_rect(0, 0, w, h, rng.uniform(4, 20)), "organic", rng.uniform(0.5, 1.2)),
        plate(rect(6, 6, w - 6, h - 6), "copper", 0.02),
    ] + filled(rect(6, 6, w - 6, h - 6), 0.16, 0.6)
    parts += _chips(8, 8, w - 8, h - 8, int(rng.integers(4, 12)), rng)
    parts += [disc(x, y, 1.8, "iron", 0.3) for x in (4, w - 4) for y in (4, h - 4)]
    if rng.random() < 0.5:  # battery or speaker magnet
        parts.append(disc(w * 0.7, h * 0.5, min(w, h) * 0.25, "iron", rng.uniform(0.2, 0.5)))
    return parts


def phone(rng: Rng) -> Parts:
    """Phone: glass and aluminium slab, battery, board, camera module."""
    w, h = rng.uniform(140, 165), rng.uniform(68, 78)
    parts = [
        hollow(rounded_rect(0, 0, w, h, 9), "aluminium", 0.3),
        plate(rect(w * 0.3, 6, w * 0.9, h - 6), "copper", 0.03),
        plate(rect(w * 0.3, 6, w * 0.9, h - 6), "organic", 0.4),
        plate(rect(8, 8, 22, 22), "iron", 0.3),
    ]
    return parts + _chips(6, 6, w * 0.28, h - 6, int(rng.integers(3, 7)), rng)


def cable(rng: Rng) -> Parts:
    """Charging cable, loose or coiled: copper core in a plastic sheath, a plug at each end."""
    if rng.random() < 0.5:
        path = wander(rng, (0, 0), int(rng.integers(10, 26)), rng.uniform(14, 26), 0.6)
    else:
        r = rng.uniform(35, 70)
        path = ellipse(0, 0, r, r * rng.uniform(0.6, 1.0), 24, 0, 2 * np.pi * rng.uniform(2, 5))
        path = path + rng.normal(0, 3, path.shape) + np.linspace(0, 1, len(path))[:, None] * rng.normal(0, 15, 2)
    parts = [stroke(path, 4.0, "organic", 0.4, "flat"), stroke(path, 1.4, "copper", 0.1, "flat")]
    for end, prev in ((path[0], path[1]), (path[-1], path[-2])):
        a = np.arctan2(*(end - prev)[::-1])
        parts += [
            solid(shift(rotate(rect(0, -5, 18, 5), a), *end), "organic", 1.2),
            plate(shift(rotate(rect(14, -3, 24, 3), a), *end), "iron", 0.2),
        ]
    return parts


def charger(rng: Rng) -> Parts:
    """Wall charger or power brick: plastic block, transformer, board, pins, and its cable."""
    s = rng.uniform(40, 90)
    parts = [
        solid(rounded_rect(0, 0, s, s * 0.7, 6), "organic", 2.5),
        plate(rect(s * 0.25, s * 0.15, s * 0.55, s * 0.5), "iron", 0.5),
        plate(rect(s * 0.25, s * 0.15, s * 0.55, s * 0.5), "copper", 0.25),
        plate(rect(s, s * 0.15, s + 16, s * 0.23), "iron", 0.25),
        plate(rect(s, s * 0.45, s + 16, s * 0.53), "iron", 0.25),
    ]
    return parts + _chips(s * 0.6, s * 0.1, s * 0.95, s * 0.6, 4, rng) + cable(rng)


def coins(rng: Rng) -> Parts:
    """A few coins in a small heap."""
    return [
        disc(rng.normal(0, 12), rng.normal(0, 12), rng.uniform(9, 14), str(rng.choice(["copper", "iron"])), 0.12)
        for _ in range(int(rng.integers(2, 9)))
    ]


def keys(rng: Rng) -> Parts:
    """Two to five brass or steel keys on a split ring, sometimes with a fob."""
    parts = [ring(0, 0, 12, 1.6, "iron", 0.2)]
    base = rng.uniform(0, 2 * np.pi)
    for k in range(int(rng.integers(2, 6))):
        length = rng.uniform(45, 60)
        teeth = [(x, 3.5 + (2.5 if j % 2 else 0)) for j, x in enumerate(np.linspace(length * 0.45, length * 0.95, 7))]
        key = np.concatenate(
            [
                rounded_rect(0, -11, 20, 11, 6),
                poly((20, -3.5), (length, -3.5), (length + 3, 0), *teeth[::-1], (20, 3.5)),
            ]
        )
        a = base + 0.45 * k + rng.normal(0, 0.1)
        dx, dy = 7 * np.cos(a), 7 * np.sin(a)
        parts.append(
            plate(
                shift(rotate(key, a), dx, dy),
                "copper" if rng.random() < 0.6 else "iron",
                0.2,
                holes=(shift(rotate(ellipse(5, 0, 2.5, 2.5, 8), a), dx, dy),),
            )
        )
    if rng.random() < 0.5:
        parts += chain(np.array([(0, 0), (-30, -10), (-55, -5)]), rng)
    return parts


def pens(rng: Rng) -> Parts:
    """A few pens, loose or in a zipped pencil case: plastic barrels, steel springs, tips and clips."""
    parts: Parts = []
    count = int(rng.integers(1, 6))
    for k in range(count):
        y, length = k * rng.uniform(10, 16), rng.uniform(120, 150)
        parts += [
            solid(rect(0, y - 4.5, length, y + 4.5), "organic", 0.9),
            stroke(coil(length * 0.75, y, 18, 2.5, 7), 0.7, "iron", 0.1),
            plate(poly((length, y - 3), (length + 10, y), (length, y + 3)), "iron", 0.3),
            plate(rect(length * 0.1, y - 6, length * 0.45, y - 4.5), "iron", 0.12),
        ]
    if count > 2 and rng.random() < 0.6:
        parts = [plate(rounded_rect(-10, -15, 170, count * 16 + 10, 10), "organic", 0.3)] + parts
        parts += zip_line(np.array([(-5, -12), (165, -12)]), rng)
    return parts


def glasses(rng: Rng) -> Parts:
    """Spectacles: thin steel frame round two plastic lenses, hinges and screws; sometimes in a case."""
    r = rng.uniform(20, 27)
    parts: Parts = []
    for side in (-1, 1):
        parts += [
            plate(ellipse(side * (r + 8), 0, r, r * 0.8, 20), "organic", 0.3),
            stroke(ellipse(side * (r + 8), 0, r, r * 0.8, 21, 0, 2 * np.pi + 1e-9), 1.6, "iron", 0.12, "flat"),
            stroke(
                np.array([(side * (2 * r + 8), -4), (side * (2 * r + 12), 40), (side * (2 * r + 6), 120)]),
                1.5,
                "iron",
                0.12,
                "flat",
            ),
        ]
    parts.append(stroke(ellipse(0, -4, 8, 5, 8, np.pi, 2 * np.pi), 1.6, "iron", 0.15, "flat"))
    if rng.random() < 0.5:
        parts.insert(0, hollow(rounded_rect(-2 * r - 20, -r - 8, 2 * r + 20, r + 8, 16), "organic", 0.6))
    return parts


def jewellery(rng: Rng) -> Parts:
    """A watch on a link bracelet or a necklace with a pendant: fine chains of steel or gold."""
    if rng.random() < 0.5:
        parts = [hollow(ellipse(0, 0, 20, 20, 20), "iron", 0.15), disc(0, 0, 14, "organic", 0.4)]
        for side in (-1, 1):
            parts += chain(
                np.array([(0, side * 20), (rng.normal(0, 10), side * 60), (rng.normal(0, 15), side * 95)]), rng, 4
            )
        return parts + [plate(rect(-10, 92, 10, 102), "iron", 0.2)]
    path = ellipse(0, 0, rng.uniform(40, 70), rng.uniform(25, 60), 20, 0, rng.uniform(3.5, 6.3))
    return chain(path + rng.normal(0, 4, path.shape), rng, 2.5) + [disc(*path[-1], rng.uniform(5, 10), "copper", 0.1)]


def book(rng: Rng) -> Parts:
    """Book, notebook (sometimes spiral-bound) or a stack of papers."""
    w, h = rng.uniform(140, 240), rng.uniform(110, 170)
    parts = filled(
        rect(0, 0, w, h), rng.uniform(0.8, 2.0), rng.uniform(0.4, 0.8) if rng.random() < 0.4 else rng.uniform(0, 0.05)
    )
    parts.append(stroke(np.concatenate([rect(0, 0, w, h), rect(0, 0, w, h)[:1]]), 4, "organic", 0.8, "flat"))
    if rng.random() < 0.4:
        parts += [ring(x, -2, 4, 1.2, "iron", 0.1, 10) for x in np.arange(8, w - 4, 8)]
    return parts


def belt(rng: Rng) -> Parts:
    """Coiled leather belt with a steel buckle."""
    path = ellipse(0, 0, rng.uniform(45, 70), rng.uniform(40, 60), 30, 0, rng.uniform(3, 9))
    return [
        stroke(path, 30, "organic", 0.5, "flat"),
        plate(rect(-6, -20, 30, 20), "iron", 0.25, holes=(rect(0, -14, 24, 14),)),
        stroke(np.array([(-4, 0), (26, 0)]), 3, "iron", 0.25, "flat"),
    ]


def umbrella(rng: Rng) -> Parts:
    """Folded umbrella: aluminium shaft, many thin steel ribs and stretchers, fabric, plastic handle."""
    length = rng.uniform(230, 320)
    parts = [
        tube(0, 0, length, 0, 10, "aluminium", 0.3),
        plate(taper(20, length, 50, 20), "organic", 0.5),
        solid(capsule(-40, 0, 0, 0, 11), "organic", 2.2),
        plate(rect(length * 0.4, -6, length * 0.45, 6), "organic", 1.5),
    ]
    parts += [stroke(np.array([(20, y), (length, y * 0.4)]), 1.2, "iron", 0.1, "flat") for y in np.linspace(-20, 20, 8)]
    parts += [
        stroke(np.array([(length * 0.45, y * 0.3), (length * 0.8, y * 0.6)]), 1.0, "iron", 0.1, "flat")
        for y in np.linspace(-20, 20, 6)
    ]
    return parts


def hanger(rng: Rng) -> Parts:
    """Loose steel wire: a clothes hanger, a spring, or a few paper clips and safety pins."""
    u = rng.random()
    if u < 0.35:
        w = rng.uniform(300, 420)
        path = np.array([(0, 0), (-w / 2, 80), (w / 2, 80), (0, 0), (0, -25)])
        return [
            stroke(np.concatenate([path, ellipse(10, -35, 10, 10, 10, np.pi / 2, 2 * np.pi)]), 2.2, "iron", 0.2, "flat")
        ]
    if u < 0.6:
        return [
            stroke(coil(0, 0, rng.uniform(40, 90), rng.uniform(6, 12), int(rng.integers(6, 14))), 1.2, "iron", 0.15)
        ]
    parts: Parts = []
    for _ in range(int(rng.integers(2, 7))):
        clip = shift(
            rotate(np.array([(0, 0), (30, 0), (30, 8), (3, 8), (3, 3), (25, 3)]), rng.uniform(0, 6.3)),
            *rng.normal(0, 20, 2),
        )
        parts.append(stroke(clip, 1.0, "iron", 0.1, "flat"))
    return parts


def batteries(rng: Rng) -> Parts:
    """A few AA cells: steel cans around dense cores."""
    parts: Parts = []
    for k in range(int(rng.integers(1, 5))):
        cell = rect(0, 15 * k, 50, 15 * k + 14)
        parts += [hollow(cell, "iron", 0.05), plate(cell, "copper", 0.1), plate(cell, "organic", 0.8)]
    return parts


def headphones(rng: Rng) -> Parts:
    """Over-ear headphones (band, cups with magnets) or an earbuds case with its hinge and coils."""
    if rng.random() < 0.5:
        return [
            solid(rounded_rect(0, 0, 60, 48, 20), "organic", 1.8),
            plate(rect(5, 4, 55, 8), "iron", 0.15),
            disc(18, 28, 6, "iron", 0.4),
            disc(42, 28, 6, "iron", 0.4),
            ring(18, 28, 9, 2, "copper", 0.2),
            ring(42, 28, 9, 2, "copper", 0.2),
        ]
    r = rng.uniform(70, 90)
    band = ellipse(0, 0, r, r, 20, np.pi, 2 * np.pi)
    return [
        stroke(band, 12, "organic", 1.0),
        stroke(band, 3, "iron", 0.12, "flat"),
        solid(ellipse(-r, 25, 30, 38, 20), "organic", 2.5),
        solid(ellipse(r, 25, 30, 38, 20), "organic", 2.5),
        disc(-r, 25, 12, "iron", 0.4),
        disc(r, 25, 12, "iron", 0.4),
    ]


def hair_dryer(rng: Rng) -> Parts:
    """Hair dryer or straightener: plastic body, motor (copper winding, steel), heating wire coils, cord."""
    length = rng.uniform(180, 240)
    parts = [
        hollow(capsule(0, 0, length * 0.6, 0, 35), "organic", 1.0),
        solid(capsule(length * 0.3, 20, length * 0.35, 140, 16), "organic", 1.8),
        disc(length * 0.1, 0, 20, "copper", 0.3),
        disc(length * 0.1, 0, 10, "iron", 0.6),
    ]
    parts += [stroke(coil(length * 0.4, y, length * 0.3, 5, 10), 0.8, "iron", 0.08) for y in (-12, 0, 12)]
    return parts + cable(rng)


def food(rng: Rng) -> Parts:
    """Snacks: a crinkled foil packet, a tin can, or a box of sweets."""
    u = rng.random()
    if u < 0.4:
        outline = _ragged(rect(0, 0, rng.uniform(120, 200), rng.uniform(80, 150)), rng, 4)
        return [plate(outline, "aluminium", 0.06)] + filled(outline, rng.uniform(1.0, 2.5), rng.uniform(0, 0.05))
    if u < 0.7:
        d = rng.uniform(55, 85)
        return [
            hollow(rect(0, -d / 2, rng.uniform(60, 110), d / 2), "iron", 0.03),
            plate(rect(2, -d / 2 + 2, 100, d / 2 - 2), "organic", d / 10 * 0.5),
        ]
    w, h = rng.uniform(100, 180), rng.uniform(70, 120)
    return [plate(rect(0, 0, w, h), "organic", 0.3)] + [
        disc(x, y, 7, "organic", 1.2) for x in np.arange(12, w - 6, 16) for y in np.arange(12, h - 6, 16)
    ]


def trinket(rng: Rng) -> Parts:
    """One of the small loose metal bits every bag has: a screw, coin, button, clip, pin, zip pull or ring."""
    u = rng.random()
    if u < 0.4:
        return screw(0, 0, rng.uniform(0, 2 * np.pi), rng)
    if u < 0.45:
        return [disc(0, 0, rng.uniform(8, 13), "copper", rng.uniform(0.1, 0.2))]
    if u < 0.55:
        return rivet(0, 0, rng)
    if u < 0.75:
        return [stroke(np.array([(0, 0), (30, 0), (30, 6), (2, 6), (2, 2), (24, 2)]), 1.0, "iron", 0.1, "flat")]
    if u < 0.9:
        return [plate(rect(-4, 0, 4, rng.uniform(15, 25)), "iron", 0.12), plate(rect(-6, -5, 6, 3), "iron", 0.25)]
    return [ring(0, 0, rng.uniform(6, 12), 1.5, "iron", 0.15)]


CLUTTER: tuple[tuple[Callable[[Rng], Parts], float], ...] = (
    (cable, 2.5),
    (charger, 1.0),
    (gadget, 0.7),
    (phone, 0.7),
    (laptop, 0.5),
    (pens, 0.8),
    (coins, 0.3),
    (keys, 0.6),
    (glasses, 0.5),
    (jewellery, 0.5),
    (batteries, 0.5),
    (toiletries, 1.0),
    (bottle, 1.0),
    (shoes, 0.7),
    (book, 0.6),
    (belt, 0.5),
    (umbrella, 0.4),
    (hair_dryer, 0.4),
    (headphones, 0.5),
    (hanger, 0.7),
    (food, 0.5),
)


def draw_clutter(rng: Rng) -> Parts:
    """One everyday object, drawn by how often it turns up in bags."""
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
        parts.append(
            stroke(rotate(loop, rng.normal(0, 0.3)), rng.uniform(1.0, 2.5), material, rng.uniform(0.12, 0.3), "flat")
        )
    return parts


def cover_pile(rng: Rng, half_length: float, half_width: float) -> Parts:
    """Dense clutter laid over an item (hidden split): thick garments, a laptop or a metal tray."""
    kind = rng.integers(3)
    if kind == 0:
        return [
            solid(
                blob(
                    rng,
                    rng.normal(0, 10),
                    rng.normal(0, 10),
                    half_length * rng.uniform(0.8, 1.3) + 20,
                    half_width * rng.uniform(1.2, 2.5) + 20,
                    0.2,
                ),
                "organic",
                rng.uniform(5.0, 9.0),
            )
            for _ in range(2)
        ]
    if kind == 1:
        return laptop(rng)
    w, h = half_length * rng.uniform(1.1, 1.6) + 10, half_width * rng.uniform(1.5, 3.0) + 10
    return [
        plate(rect(-w, -h, w, h), "aluminium", rng.uniform(0.3, 0.7)),
        solid(blob(rng, 0, 0, w * 0.8, h * 0.8), "organic", 3.0),
    ]
