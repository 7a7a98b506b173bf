"""Outline primitives in item-local millimetres (x right, y down) and the pose that maps them to pixels.

Every object of a scan is built from these: closed outlines (filled) and open paths (stroked).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

Points = np.ndarray  # (N, 2) float64


def poly(*points: tuple[float, float]) -> Points:
    """A closed outline through the given (x, y) points."""
    return np.asarray(points, dtype=np.float64)


def rect(x0: float, y0: float, x1: float, y1: float) -> Points:
    """Axis-aligned rectangle."""
    return poly((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 28, a0: float = 0.0, a1: float = 2 * np.pi) -> Points:
    """Ellipse (or, with a0/a1, an elliptic arc as an open path) centred at (cx, cy)."""
    closed = abs(a1 - a0 - 2 * np.pi) < 1e-9
    t = np.linspace(a0, a1, n, endpoint=not closed)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


@cache
def _corner_arcs(n: int) -> Points:
    """Unit-radius quarter circles (n points each) of the four corners of a rounded rectangle, (4, n, 2)."""
    return np.stack([ellipse(0, 0, 1, 1, n, a, a + 0.5 * np.pi) for a in (0.0, 0.5 * np.pi, np.pi, 1.5 * np.pi)])


def rounded_rect(x0: float, y0: float, x1: float, y1: float, r: float, n: int = 5) -> Points:
    """Rectangle with quarter-circle corners of radius r."""
    r = min(r, (x1 - x0) / 2, (y1 - y0) / 2)
    centres = np.array([[x1 - r, y1 - r], [x0 + r, y1 - r], [x0 + r, y0 + r], [x1 - r, y0 + r]])
    return (centres[:, None, :] + r * _corner_arcs(n)).reshape(-1, 2)


def capsule(x0: float, y0: float, x1: float, y1: float, r: float, n: int = 8) -> Points:
    """Stadium: the segment (x0, y0)-(x1, y1) thickened to radius r with round ends."""
    a = np.arctan2(y1 - y0, x1 - x0)
    end1 = ellipse(x1, y1, r, r, n, a - np.pi / 2, a + np.pi / 2)
    end0 = ellipse(x0, y0, r, r, n, a + np.pi / 2, a + 1.5 * np.pi)
    return np.concatenate([end1, end0])


def taper(x0: float, x1: float, w0: float, w1: float, y: float = 0.0) -> Points:
    """Trapezoid along x from width w0 at x0 to width w1 at x1, centred on y."""
    return poly((x0, y - w0 / 2), (x1, y - w1 / 2), (x1, y + w1 / 2), (x0, y + w0 / 2))


def blob(
    rng: np.random.Generator, cx: float, cy: float, rx: float, ry: float, roughness: float = 0.15, n: int = 36
) -> Points:
    """Irregular closed outline: an ellipse whose radius is perturbed by a few low harmonics."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    radius = np.ones(n)
    for k in range(2, 6):
        radius += roughness / k * rng.uniform(-1, 1) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    return np.stack([cx + rx * radius * np.cos(t), cy + ry * radius * np.sin(t)], axis=1)


def wander(
    rng: np.random.Generator,
    start: tuple[float, float],
    steps: int,
    step: float,
    turn: float = 0.5,
    heading: float | None = None,
) -> Points:
    """Open path of a smooth random walk (cables, wires, straps)."""
    angle = rng.uniform(0, 2 * np.pi) if heading is None else heading
    spin = 0.0
    pts = [np.asarray(start, dtype=np.float64)]
    for _ in range(steps):
        spin = 0.6 * spin + rng.normal(0, turn)
        angle += spin
        pts.append(pts[-1] + step * np.array([np.cos(angle), np.sin(angle)]))
    return np.stack(pts)


def coil(cx: float, cy: float, length: float, radius: float, turns: int, n_per_turn: int = 10) -> Points:
    """Open path of a side-on helical spring along x, centred at (cx, cy)."""
    t = np.linspace(0, 2 * np.pi * turns, turns * n_per_turn + 1)
    x = cx - length / 2 + length * t / t[-1] + 0.25 * radius * np.cos(t)
    return np.stack([x, cy + radius * np.sin(t)], axis=1)


def along(path: Points, count: int, closed: bool = False) -> tuple[Points, np.ndarray]:
    """`count` points spread evenly by arc length along a path, and the path's direction (radians) at each."""
    pts = np.concatenate([path, path[:1]]) if closed else path
    seg = np.diff(pts, axis=0)
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))])
    s = (np.arange(count) + 0.5) / count * cum[-1]
    k = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1)
    f = ((s - cum[k]) / np.maximum(cum[k + 1] - cum[k], 1e-9))[:, None]
    return pts[k] + f * seg[k], np.arctan2(seg[k, 1], seg[k, 0])


def rotate(points: Points, angle: float, origin: tuple[float, float] = (0.0, 0.0)) -> Points:
    """Rotate points by `angle` radians about `origin`."""
    c, s = np.cos(angle), np.sin(angle)
    o = np.asarray(origin, dtype=np.float64)
    return (points - o) @ np.array([[c, s], [-s, c]]) + o


def shift(points: Points, dx: float, dy: float) -> Points:
    """Translate points."""
    return points + np.array([dx, dy])


def mirror_y(points: Points) -> Points:
    """Reflect points across the x axis (y -> -y)."""
    return points * np.array([1.0, -1.0])


@dataclass(frozen=True)
class Part:
    """One homogeneous piece of an object: a filled outline (or, with width > 0, a stroked open path).

    thickness is the X-ray path length in cm at the thickest point; profile shapes it across the
    part: "flat" (plate), "cloth" (thinning out at its edges, with a blotchy weave), "rod" (solid
    cylinder: thin at the edges) or "shell" (hollow: dark rims).
    """

    outline: Points
    material: str
    thickness: float
    profile: str = "flat"
    width: float = 0.0
    holes: tuple[Points, ...] = ()


@dataclass(frozen=True)
class Pose:
    """Maps item millimetres to image pixels: optional mirror, rotation, scale (px/mm), then centre; then,
    for things drawn by a fan beam, a stretch along the image height about row `fan`."""

    scale: float
    angle: float = 0.0
    flip: bool = False
    cx: float = 0.0
    cy: float = 0.0
    stretch: float = 1.0
    fan: float = 0.0

    @cached_property
    def _affine(self) -> tuple[np.ndarray, np.ndarray]:
        """The pose as (2x2 matrix, offset) acting on row vectors, built once: poses map hundreds of outlines."""
        c, s = np.cos(self.angle) * self.scale, np.sin(self.angle) * self.scale
        flip = -1.0 if self.flip else 1.0
        matrix = np.array([[c, s * self.stretch], [-s * flip, c * flip * self.stretch]])
        return matrix, np.array([self.cx, self.fan + (self.cy - self.fan) * self.stretch])

    def apply(self, points: Points) -> Points:
        """Pixel coordinates of item-local points."""
        matrix, offset = self._affine
        return points @ matrix + offset
