"""Small hardware that real bags and their contents are full of: screws, rivets, zips, buckles, wheels, tubes.

All in item-local millimetres. These are the many small dense parts that give real scans their fine
blue structure; bags and clutter both use them.
"""

from __future__ import annotations

import numpy as np

from segloc.generator.geometry import Part, Points, along, ellipse, rect, rotate, shift
from segloc.generator.shapes import Parts, Rng, disc, filled, hollow, plate, ring, stroke


def screw(x: float, y: float, angle: float, rng: Rng) -> Parts:
    """A screw or rivet seen from the side: round head and a shank pointing along `angle`."""
    head, length = rng.uniform(2.5, 4.5), rng.uniform(6, 16)
    tip = (x + length * np.cos(angle), y + length * np.sin(angle))
    return [
        disc(x, y, head, "iron", rng.uniform(0.15, 0.3)),
        stroke(np.array([(x, y), tip]), rng.uniform(1.6, 2.6), "iron", rng.uniform(0.12, 0.25), "flat"),
    ]


def screws_along(path: Points, count: int, rng: Rng, closed: bool = False) -> Parts:
    """`count` screws spread along a path, shanks across it."""
    parts: Parts = []
    for (x, y), a in zip(*along(path, count, closed)):
        parts += screw(x, y, a + np.pi / 2 * (1 if rng.random() < 0.5 else -1) + rng.normal(0, 0.2), rng)
    return parts


def rivet(x: float, y: float, rng: Rng) -> Parts:
    """A rivet or press stud seen from above: a small metal ring or disc."""
    r = rng.uniform(2.0, 4.5)
    if rng.random() < 0.5:
        return [ring(x, y, r, 1.4, "iron", 0.1, 10)]
    return [disc(x, y, r, "iron", rng.uniform(0.06, 0.15))]


def zip_line(path: Points, rng: Rng, closed: bool = False, pullers: int = 1) -> Parts:
    """A zip: two fabric tapes, a chain of metal (or plastic) teeth, and its sliders with pull tabs."""
    path = np.concatenate([path, path[:1]]) if closed else path
    metal = rng.random() < 0.7
    parts = [
        stroke(path, rng.uniform(14, 22), "organic", rng.uniform(0.15, 0.3), "flat"),
        stroke(
            path,
            rng.uniform(4, 6),
            "iron" if metal else "aluminium",
            rng.uniform(0.03, 0.06) if metal else 0.25,
            "flat",
        ),
    ]
    points, angles = along(path, max(pullers, 1))
    for (x, y), a in zip(points[:pullers], angles[:pullers]):
        tab = shift(rotate(rect(-4, 0, 4, rng.uniform(18, 28)), a - np.pi / 2 + rng.normal(0, 0.4)), x, y)
        parts += [
            plate(shift(rotate(rect(-6, -5, 6, 5), a), x, y), "iron", 0.3),
            plate(tab, "iron", 0.12, holes=(shift(rotate(rect(-2, 8, 2, 14), a - np.pi / 2), x, y),)),
        ]
    return parts


def buckle(x: float, y: float, angle: float, rng: Rng, width: float | None = None) -> Parts:
    """A strap buckle: plastic (pale) or steel (blue) frame with a bar, and the webbing through it."""
    w = width or rng.uniform(25, 45)
    metal = rng.random() < 0.5
    frame = shift(rotate(rect(-w / 2, -w * 0.35, w / 2, w * 0.35), angle), x, y)
    hole = shift(rotate(rect(-w / 2 + 4, -w * 0.35 + 4, w / 2 - 4, w * 0.35 - 4), angle), x, y)
    bar = shift(rotate(rect(-w / 2, -1.5, w / 2, 1.5), angle), x, y)
    material, t = ("iron", 0.18) if metal else ("organic", 1.5)
    return [plate(frame, material, t, holes=(hole,)), plate(bar, material, t)]


def wheel(x: float, y: float, r: float, angle: float, rng: Rng) -> Parts:
    """A trolley wheel of radius `r` mm in its housing: filled-rubber tyre round a steel axle, the bracket screwed
    to the shell (the housing points away from `angle`)."""
    parts = [
        plate(shift(rotate(rect(-r * 1.1, -r * 0.9, r * 0.6, r * 0.9), angle), x, y), "organic", rng.uniform(0.8, 1.6)),
        *filled(ellipse(x, y, r, r, 20), rng.uniform(2.5, 4.0), rng.uniform(0.2, 0.4), "rod"),
        ring(x, y, r * 0.45, 3, "aluminium", 0.3),
        disc(x, y, rng.uniform(3, 5), "iron", 0.6),
    ]
    for k in (-1, 1):
        sx, sy = rotate(np.array([[-r * 0.9, k * r * 0.6]]), angle)[0]
        parts += screw(x + sx, y + sy, angle + np.pi, rng)
    return parts


def tube(x0: float, y0: float, x1: float, y1: float, width: float, material: str, wall: float) -> Part:
    """A straight hollow tube (trolley rail, umbrella shaft): pale in the middle, dark along its walls."""
    a = np.arctan2(y1 - y0, x1 - x0)
    length = float(np.hypot(x1 - x0, y1 - y0))
    return hollow(shift(rotate(rect(0, -width / 2, length, width / 2), a), x0, y0), material, wall)


def chain(path: Points, rng: Rng, link: float | None = None) -> Parts:
    """A metal chain (jewellery, key chain): small oval links along a path."""
    size = link or rng.uniform(3, 6)
    seg = np.diff(path, axis=0)
    length = float(np.hypot(seg[:, 0], seg[:, 1]).sum())
    count = max(2, int(length / (size * 1.6)))
    parts: Parts = []
    for k, ((x, y), a) in enumerate(zip(*along(path, count))):
        loop = ellipse(0, 0, size, size * (0.55 if k % 2 else 0.3), 10, 0, 2 * np.pi + 1e-9)
        parts.append(stroke(shift(rotate(loop, a), x, y), 1.2, "iron", 0.12, "flat"))
    return parts
