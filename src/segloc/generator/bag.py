"""Bags: the shell (suitcase, duffel, backpack, tote) with its hardware, laid on the belt and seen in 3-D.

A bag is built in millimetres as layers at heights z in [0, 1] (0: the side lying on the belt, 1: the
top side). A line scanner draws one image column per step of the belt (a parallel projection along the
image width), while along the image height the beam fans out from a point source under the belt: a
point h above the belt, where the source is d away, is drawn d / (d + h) as far from the source's axis
as it would be on the belt. So the top side reads narrower along the height than the side on the belt,
and a box reads as two outlines joined by its side walls. A wall's material is spread over the band
between the two outlines: narrow bands (walls seen nearly edge-on) read dark, wide ones pale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np

from segloc.generator.fittings import buckle, rivet, screw, screws_along, tube, wheel, zip_line
from segloc.generator.geometry import Points, Pose, capsule, ellipse, poly, rect, rounded_rect, shift
from segloc.generator.raster import Canvas
from segloc.generator.shapes import Parts, Rng, filled, plate, ring, solid, stroke

BELT_MARGIN = 4  # px of empty belt kept around the bag's footprint
EDGE_SPREAD = 2  # px a drawn edge can reach past its outline (anti-aliasing, rounding to the pixel grid)
# Rims, where a face turns into the walls (seen edge-on, with piping, seams and folded fabric): cm of plastic
# with RIM_MINERAL cm of mid-Z filler per cm (edge bindings and shell edges are PVC, whose effective atomic number
# is near aluminium's, or filled plastics, so rims read green), per style. Every bag reads darker than the belt
# along its outline, which SegLoc's authentic-region algorithm relies on. SIXray's are as dark as ~1.3 cm of pure
# organic matter, no darker than real SIXray outlines (at 1.5 cm, generated outlines held 3x the strong edges of
# real ones); PIDray's keep 1.5 cm. The rim is the wall's outer skin and binding, RIM_SHARE of the wall's depth;
# the padding behind it shows as the wall's band (real SIXray bags have thin outlines; full-depth rims were the
# main excess of pale yellow-green). RIB: cm range of the moulded ribs and lining edges, per style.
RIM, RIM_MINERAL, RIM_SHARE = {"pidray": 1.5, "sixray": 0.4}, 1.0, 0.6
RIB = {"pidray": (0.6, 1.6), "sixray": (0.2, 0.5)}
EDGE_ROUNDING = 0.15  # radius of a bag's rounded edges as a share of its height
SOURCE_TO_BELT = (600.0, 1500.0)  # mm from the X-ray source to the belt: d in the fan beam's d / (d + h)
# Where the source's axis crosses the image height, in bag lengths either side of the bag's centre: the source
# sits at a corner of the tunnel, the bag anywhere across the belt.
FAN_AXIS = 0.8
ROOM_LEVELS = 5  # heights at which the room the bag leaves its contents is read


@dataclass
class Shell:
    """A bag model in millimetres: its base outline, its height, its side walls (layers of material and cm,
    and how deep the wall with its padding and frame is in mm), and its parts at heights z in [0, 1]."""

    outline: Points
    height: float
    wall: tuple[tuple[str, float], ...]
    depth: float
    layers: list[tuple[float, Parts]]


@dataclass
class Bag:
    """A bag laid on a width x height belt image: posed layers, base outline and room for contents in pixels,
    the (eroded) interior where objects go, px/mm, the pose of the bag's millimetres at each height, and its size."""

    layers: list[tuple[Parts, Pose]]
    outline: Points
    room: np.ndarray  # float32: share of the bag's depth open to contents, 0 outside the walls
    interior: np.ndarray
    scale: float
    width: int
    height: int
    level: Callable[[float], Pose]  # bag mm (origin at its centre, long axis along y) at height z to pixels
    size: tuple[float, float]  # width and length of the bag in mm

    def draw(self, canvas: Canvas) -> None:
        """Add the bag's path lengths to the canvas."""
        for parts, pose in self.layers:
            canvas.draw(parts, pose)


def _closed(outline: Points) -> Points:
    return np.concatenate([outline, outline[:1]])


def _panel(outline: Points, rng: Rng, style: str, hard: bool) -> Parts:
    """One face of the bag: thin fabric or plastic, often with a frame wire round its edge."""
    light = 0.55 if style == "pidray" else 1.0
    # hard shells (ABS, polycarbonate with fillers) and PVC-coated fabric read green
    mineral = rng.uniform(0.4, 0.9) if hard and rng.random() < 0.4 else rng.uniform(0.0, 0.1)
    parts = filled(outline, light * rng.uniform(0.35, 0.7), mineral)
    if rng.random() < (0.75 if hard else 0.35):
        parts.append(stroke(_closed(outline), rng.uniform(2.0, 3.5), "iron", rng.uniform(0.1, 0.2), "flat"))
    return parts


def _handle(x0: float, y0: float, x1: float, y1: float, rng: Rng, stand_off: float = 10.0) -> Parts:
    """A carry handle: padded plastic grip `stand_off` mm out from the shell (room for the fingers), on a screwed
    post at each end."""
    parts = [solid(capsule(x0, y0, x1, y1, rng.uniform(8, 13)), "organic", rng.uniform(0.8, 1.5))]
    a = np.arctan2(y1 - y0, x1 - x0)
    inward = np.array([-np.sin(a), np.cos(a)])  # towards the bag's centre, the origin
    if np.dot(inward, [x0 + x1, y0 + y1]) > 0:
        inward = -inward
    for x, y in ((x0, y0), (x1, y1)):
        post = np.array([(x, y), (x + inward[0] * stand_off, y + inward[1] * stand_off)])
        parts.append(stroke(post, 22, "organic", rng.uniform(0.5, 1.0), "flat"))
        parts += screw(x - 6 * np.cos(a), y - 6 * np.sin(a), a + np.pi / 2, rng) + screw(
            x + 6 * np.cos(a), y + 6 * np.sin(a), a + np.pi / 2, rng
        )
    return parts


def _trolley(w: float, length: float, rng: Rng) -> Parts:
    """Trolley handle: two long telescoping tubes (aluminium or thin steel), handle housing, base plate, screws."""
    gap, rw = w * rng.uniform(0.3, 0.52), rng.uniform(22, 36)
    top, bottom = -length / 2 + rng.uniform(12, 35), length / 2 - rng.uniform(70, 130)
    metal, wall = ("aluminium", rng.uniform(0.2, 0.4)) if rng.random() < 0.3 else ("iron", rng.uniform(0.05, 0.1))
    parts: Parts = []
    for x in (-gap / 2, gap / 2):
        parts.append(tube(x, top, x, bottom, rw, metal, wall))
        parts.append(tube(x, top, x, top + (bottom - top) * rng.uniform(0.45, 0.6), rw * 0.72, metal, wall))
        parts += screws_along(
            np.array([(x + rw / 2 + 4, top + 20), (x + rw / 2 + 4, bottom)]), int(rng.integers(1, 4)), rng
        )
    parts.append(plate(rect(-gap / 2 - rw, top - 8, gap / 2 + rw, top + 30), "organic", rng.uniform(1.2, 2.4)))
    parts.append(solid(capsule(-gap / 2 + rw, top + 10, gap / 2 - rw, top + 10, 9), "organic", 2.2))
    parts.append(plate(rect(-gap / 2 - rw, bottom - 12, gap / 2 + rw, bottom + 28), "organic", rng.uniform(1.0, 2.0)))
    parts += screws_along(np.array([(-gap / 2 - rw, top + 12), (gap / 2 + rw, top + 12)]), int(rng.integers(2, 6)), rng)
    parts += screws_along(
        np.array([(-gap / 2 - rw, bottom + 8), (gap / 2 + rw, bottom + 8)]), int(rng.integers(2, 6)), rng
    )
    if rng.random() < 0.5:  # a cross bar between the rails
        y = rng.uniform(top + 60, bottom - 20)
        parts.append(tube(-gap / 2, y, gap / 2, y, rng.uniform(8, 14), metal, wall))
    return parts


def suitcase(rng: Rng, style: str) -> Shell:
    """Suitcase lying on its back: trolley rails and wheels on the back, zip round the middle, straps inside."""
    length = rng.uniform(540, 780)
    w = length * rng.uniform(0.6, 0.76)
    outline = rounded_rect(-w / 2, -length / 2, w / 2, length / 2, rng.uniform(0.06, 0.16) * w, 6)
    hard = rng.random() < 0.55
    back = _panel(outline, rng, style, hard)
    if rng.random() < (0.85 if style == "sixray" else 0.4):
        back += _trolley(w, length, rng)
    spinner = rng.random() < 0.6
    wheels: Parts = []
    for sx in (-1, 1):
        r = rng.uniform(20, 32)  # the wheels stick out of the corners
        wheels += wheel(
            sx * (w / 2 - r * rng.uniform(0.4, 0.8)),
            length / 2 + r * rng.uniform(0.3, 0.8),
            r,
            rng.uniform(-0.3, 0.3) + np.pi / 2,
            rng,
        )
    front = _panel(outline, rng, style, hard)
    inset = rng.uniform(25, 60)
    for _ in range(int(rng.integers(0, 3))):  # lining pockets with zips
        y0 = rng.uniform(-length / 2 + inset, length / 4)
        pocket = rect(-w / 2 + inset, y0, w / 2 - inset, y0 + rng.uniform(80, 200))
        front += [plate(pocket, "organic", rng.uniform(0.1, 0.3))] + zip_line(pocket[:2], rng)
    if rng.random() < 0.7:  # divider across the middle, zipped
        y = rng.uniform(-0.1, 0.1) * length
        front += zip_line(np.array([(-w / 2 + 10, y), (w / 2 - 10, y)]), rng, pullers=int(rng.integers(1, 3)))
    for x in rng.uniform(-w / 3, w / 3, int(rng.integers(0, 3))):  # elastic packing straps with buckles
        y0, y1 = -length * rng.uniform(0.1, 0.4), length * rng.uniform(0.1, 0.4)
        front.append(
            stroke(np.array([(x, y0), (x + rng.normal(0, 20), y1)]), rng.uniform(20, 30), "organic", 0.25, "flat")
        )
        front += buckle(x, rng.uniform(y0, y1), np.pi / 2, rng)
    middle = zip_line(outline[::-1] * 0.995, rng, closed=True, pullers=2)
    stand_off = rng.uniform(20, 35)
    middle += _handle(
        -rng.uniform(45, 70), -length / 2 - stand_off, rng.uniform(45, 70), -length / 2 - stand_off, rng, stand_off
    )
    if rng.random() < 0.7:
        middle += _handle(
            w / 2 + stand_off, -rng.uniform(50, 80), w / 2 + stand_off, rng.uniform(50, 80), rng, stand_off
        )
    for _ in range(int(rng.integers(2, 6))):  # feet and corner guards on the side
        middle += [plate(shift(rect(-8, -5, 8, 5), -w / 2 - 3, rng.uniform(-length / 3, length / 3)), "organic", 1.5)]
        middle += rivet(-w / 2 - 3, rng.uniform(-length / 3, length / 3), rng)
    layers = [(0.0, back + wheels), (0.5, middle), (1.0, front + (wheels if spinner else []))]
    wall = (("organic", rng.uniform(0.08, 0.15)),) + ((("aluminium", rng.uniform(0.02, 0.05)),) if hard else ())
    return Shell(outline, rng.uniform(200, 300), wall, rng.uniform(16, 24), layers)


def duffel(rng: Rng, style: str) -> Shell:
    """Soft duffel or holdall: irregular outline, zip along the top, end pockets, carry straps with clips."""
    length = rng.uniform(480, 700)
    w = length * rng.uniform(0.45, 0.62)
    outline = rounded_rect(-w / 2, -length / 2, w / 2, length / 2, rng.uniform(0.3, 0.5) * w, 8)
    outline = outline * (1 + rng.normal(0, 0.015, (len(outline), 1)))  # soft sides bulge unevenly
    back, front = _panel(outline, rng, style, False), _panel(outline, rng, style, False)
    front += zip_line(
        np.array([(rng.normal(0, 10), -length * 0.42), (rng.normal(0, 10), length * 0.42)]), rng, pullers=2
    )
    for sy in (-1, 1):
        y = sy * length * rng.uniform(0.3, 0.4)
        front += zip_line(ellipse(0, y, w * 0.3, length * 0.08, 12, 0, np.pi), rng)
    straps: Parts = []
    for sx in (-1, 1):
        x = sx * w * rng.uniform(0.1, 0.22)
        path = np.array([(x, -length * 0.35), (x + sx * w * 0.2, 0), (x, length * 0.35)])
        straps += [stroke(path, rng.uniform(25, 40), "organic", rng.uniform(0.4, 0.9), "flat")]
        straps += [rivet(*p, rng)[0] for p in path[[0, 2]]]
    if rng.random() < 0.7:  # shoulder strap folded on top, with steel clips and an adjuster buckle
        x = rng.uniform(-0.25, 0.25) * w
        path = np.array(
            [(x, -length * 0.4), (x + rng.normal(0, w * 0.1), 0), (x + rng.normal(0, w * 0.1), length * 0.4)]
        )
        straps += [stroke(path, 35, "organic", 0.5, "flat")] + buckle(*path[1], np.pi / 2, rng)
        for px, py in path[[0, -1]]:
            straps += [
                plate(shift(rect(-10, -18, 10, 18), px, py), "iron", 0.3, holes=(shift(rect(-6, -12, 6, 4), px, py),))
            ]
    middle = [
        rivet(x, y, rng)[0] for x, y in zip(rng.uniform(-w / 3, w / 3, 6), rng.uniform(-length / 3, length / 3, 6))
    ]
    wall = (("organic", rng.uniform(0.06, 0.12)),)
    return Shell(
        outline, rng.uniform(180, 280), wall, rng.uniform(18, 26), [(0.0, back), (0.5, middle), (1.0, front + straps)]
    )


def backpack(rng: Rng, style: str) -> Shell:
    """Backpack: rounded body, front pockets with zips, shoulder straps with buckles, back stays."""
    length = rng.uniform(420, 540)
    w = length * rng.uniform(0.62, 0.8)
    outline = rounded_rect(-w / 2, -length / 2, w / 2, length / 2, rng.uniform(0.25, 0.4) * w, 8)
    outline = outline + rng.normal(0, 2.0, outline.shape)
    back, front = _panel(outline, rng, style, False), _panel(outline, rng, style, False)
    for side in (-1, 1):
        strap = np.array([(side * w * 0.18, -length * 0.42), (side * w * 0.3, 0), (side * w * 0.22, length * 0.42)])
        back += [stroke(strap, rng.uniform(45, 65), "organic", rng.uniform(0.6, 1.2), "flat")]
        back += buckle(*strap[2], np.pi / 2, rng) + buckle(*strap[1], np.pi / 2, rng, 25)
    if rng.random() < 0.5:  # aluminium stays along the back
        for x in (-w * 0.15, w * 0.15):
            back.append(stroke(np.array([(x, -length * 0.4), (x, length * 0.4)]), 12, "aluminium", 0.2, "flat"))
    y0 = -length * 0.05
    pocket = rounded_rect(-w * 0.35, y0, w * 0.35, length * 0.42, 30, 4)
    front += [plate(pocket, "organic", rng.uniform(0.2, 0.5))] + zip_line(pocket[len(pocket) // 2 :], rng, pullers=2)
    front += zip_line(ellipse(0, 0, w * 0.45, length * 0.45, 20, np.pi * 1.05, np.pi * 1.95), rng, pullers=2)
    middle = _handle(-30, -length / 2 - 5, 30, -length / 2 - 5, rng)
    return Shell(
        outline,
        rng.uniform(160, 240),
        (("organic", rng.uniform(0.06, 0.12)),),
        rng.uniform(18, 26),
        [(0.0, back), (0.5, middle), (1.0, front)],
    )


def tote(rng: Rng, style: str) -> Shell:
    """Tote or handbag: a trapezoid body, zip top, two handles (lying over it) with steel rings, a clasp and feet."""
    length = rng.uniform(300, 450)
    h = length * rng.uniform(0.65, 0.85)
    outline = poly((-length / 2 * 0.82, -h / 2), (length / 2 * 0.82, -h / 2), (length / 2, h / 2), (-length / 2, h / 2))
    back, front = _panel(outline, rng, style, False), _panel(outline, rng, style, False)
    front += zip_line(np.array([(-length * 0.38, -h / 2 + 12), (length * 0.38, -h / 2 + 12)]), rng)
    handles: Parts = []
    for side in (-1, 1):
        arc = ellipse(side * length * 0.2, -h / 2 + 10, length * 0.1, h * 0.35, 14, 0, np.pi)  # flopped over the body
        handles += [stroke(arc, rng.uniform(12, 18), "organic", rng.uniform(1.5, 3.0), "flat")]
        handles += [ring(*arc[0], 7, 2.5, "iron", 0.2), ring(*arc[-1], 7, 2.5, "iron", 0.2)]
    front += [plate(rect(-12, -h / 2 + 20, 12, -h / 2 + 40), "iron", 0.15)]
    back += [rivet(x, h / 2 - 15, rng)[0] for x in (-length * 0.35, -length * 0.12, length * 0.12, length * 0.35)]
    return Shell(
        outline,
        rng.uniform(120, 200),
        (("organic", rng.uniform(0.06, 0.12)),),
        rng.uniform(18, 26),
        [(0.0, back), (1.0, front + handles)],
    )


BAG_KINDS: dict[str, tuple[tuple[Callable[[Rng, str], Shell], ...], tuple[float, ...]]] = {
    "pidray": ((suitcase, duffel, backpack, tote), (0.3, 0.25, 0.25, 0.2)),
    "sixray": ((suitcase, duffel, backpack, tote), (0.74, 0.1, 0.12, 0.04)),
}
# How each style frames the bag: PIDray scans have fixed sizes and lie nearly level; SIXray scans are
# cropped around the bag at 0.6-0.8 px/mm, the bag at any angle (long axis mostly along the image height).
# SIXray's belt runs along the image width: the scanner records from the column where the bag enters the
# beam to the one where it leaves, so the bag touches the left and right edges (85-90 % of real SIXray
# negatives have no empty column there) with a little belt above and below.
PIDRAY_SIZE = {"width": (440, 560), "height": (340, 460)}
SIXRAY_PX_PER_MM = (0.62, 0.8)
# SIXray bags' long axes, as the real negatives' outlines lie: 30 % upright, 5 % across the belt, the rest at any
# slant in between (about 8 % per 10 degrees from 5 to 85 degrees off upright).
SIXRAY_UPRIGHT, SIXRAY_LYING = 0.3, 0.05
SQUARE_SPREAD = 0.09  # radians (5 degrees): how far a bag laid square to the belt still turns


def _angle(rng: Rng, style: str) -> float:
    """The bag's rotation on the belt (radians, long axis up at 0)."""
    turn = np.pi if rng.random() < 0.5 else 0.0  # wheels at the top or at the bottom
    if style == "pidray":
        return turn + np.pi / 2 + rng.normal(0, 0.06)
    u = rng.random()
    if u < SIXRAY_UPRIGHT:
        return turn + rng.normal(0, SQUARE_SPREAD)
    if u < SIXRAY_UPRIGHT + SIXRAY_LYING:
        return turn + np.pi / 2 + rng.normal(0, SQUARE_SPREAD)
    return turn + rng.choice([-1, 1]) * rng.uniform(SQUARE_SPREAD, np.pi / 2 - SQUARE_SPREAD)


def _walls(floor: Points, lid: Points, shell: Shell, scale: float, style: str) -> Parts:
    """Side walls in pixels: a rim round the bag's silhouette (the walls seen edge-on), and each wall's
    material spread over the band between the two outlines where that band is wider than the wall."""
    n = len(floor)
    rim = shell.depth * scale * RIM_SHARE
    hull = cv2.convexHull(np.concatenate([floor, lid]).astype(np.float32))[:, 0].astype(np.float64)
    parts = filled(_closed(hull), RIM[style], RIM_MINERAL, "flat", rim)
    for material, cm in shell.wall:
        for i in range(n):
            j = (i + 1) % n
            e = floor[j] - floor[i]
            normal = np.array([-e[1], e[0]]) / max(float(np.hypot(*e)), 1e-9)
            band = abs(float(np.dot((lid[i] + lid[j] - floor[i] - floor[j]) / 2, normal)))
            if band >= rim:
                parts.append(
                    plate(np.array([floor[i], floor[j], lid[j], lid[i]]), material, cm * shell.height * scale / band)
                )
    return parts


def _ribs(shell: Shell, rng: Rng, style: str) -> list[tuple[float, Parts]]:
    """Outlines at a few heights between the faces: moulded ribs of a shell, lining and fabric edges, all
    seen edge-on (thin lines, green where the shell is filled plastic). The fan beam draws each at its own
    size, so many of them would read as nested outlines, which real bags do not show."""
    mineral = RIM_MINERAL if rng.random() < 0.6 else 0.0
    return [
        (float(z), filled(_closed(shell.outline), rng.uniform(*RIB[style]), mineral, "flat", rng.uniform(1.5, 3.0)))
        for z in rng.uniform(0.05, 0.95, int(rng.integers(1, 4)))
    ]


def make_bag(rng: Rng, style: str) -> Bag:
    """Lay one bag on the belt: pick its kind, angle, scale and the belt image around it."""
    kinds, probs = BAG_KINDS[style]
    shell = kinds[int(rng.choice(len(kinds), p=probs))](rng, style)
    layers_mm = shell.layers + _ribs(shell, rng, style)
    angle = _angle(rng, style)
    source = rng.uniform(*SOURCE_TO_BELT)
    axis = rng.uniform(-FAN_AXIS, FAN_AXIS) * np.ptp(shell.outline, axis=0).max()

    def project(z: float, scale: float, cx: float, cy: float) -> Pose:
        """Where the fan beam draws things at height z: nearer the source's axis along the image height."""
        stretch = source / (source + z * shell.height)
        return Pose(scale, angle, False, cx, cy, stretch, cy + scale * axis)

    def span(z: float, outline: Points, width: float) -> Points:
        """Lowest and highest x, y (mm) an outline drawn `width` wide at height z reaches."""
        pts = project(z, 1.0, 0.0, 0.0).apply(outline)
        return np.stack([pts.min(0) - width / 2, pts.max(0) + width / 2])

    spans = [span(z, p.outline, p.width) for z, parts in layers_mm for p in parts]
    spans += [span(z, shell.outline, shell.depth * RIM_SHARE) for z in (0.0, 1.0)]
    lo, hi = np.min([s[0] for s in spans], 0), np.max([s[1] for s in spans], 0)
    pad = BELT_MARGIN + EDGE_SPREAD
    if style == "pidray":
        width = int(rng.integers(*PIDRAY_SIZE["width"], endpoint=True))
        height = int(rng.integers(*PIDRAY_SIZE["height"], endpoint=True))
        fill = rng.uniform(0.75, 0.95)
        scale = fill * min((width - 2 * pad) / (hi - lo)[0], (height - 2 * pad) / (hi - lo)[1])
        pad_x = pad
    else:
        scale = rng.uniform(*SIXRAY_PX_PER_MM)
        width = int(np.ceil((hi - lo)[0] * scale))
        height = int(np.ceil((hi - lo)[1] * scale + 2 * pad + rng.integers(0, 6)))
        pad_x = 0
    cx = rng.uniform(pad_x - lo[0] * scale, width - pad_x - hi[0] * scale)
    cy = rng.uniform(pad - lo[1] * scale, height - pad - hi[1] * scale)
    level = partial(project, scale=scale, cx=cx, cy=cy)
    floor, lid = level(0.0).apply(shell.outline), level(1.0).apply(shell.outline)
    layers = [(parts, level(z)) for z, parts in layers_mm]
    layers.append((_walls(floor, lid, shell, scale, style), Pose(1.0)))
    size = np.ptp(shell.outline, axis=0)
    room = _room([level(z).apply(shell.outline) for z in np.linspace(0, 1, ROOM_LEVELS)], shell, scale, height, width)
    interior = cv2.erode((room > 0).astype(np.uint8), np.ones((15, 15), np.uint8))
    return Bag(layers, floor, room, interior, scale, width, height, level, (float(size[0]), float(size[1])))


def _room(outlines: list[Points], shell: Shell, scale: float, height: int, width: int) -> np.ndarray:
    """Share of the bag's depth open to contents at each pixel: the share of heights whose outline holds the pixel
    (contents fill the bag at every height, each drawn where the fan beam puts that height), thinning out over
    the bag's rounded edges (a quarter circle of EDGE_ROUNDING of its height)."""
    share = np.zeros((height, width), np.float32)
    for outline in outlines:
        inside = np.zeros((height, width), np.uint8)
        cv2.fillPoly(inside, [np.round(outline * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
        share += inside / np.float32(len(outlines))
    depth = cv2.distanceTransform((share > 0).astype(np.uint8), cv2.DIST_L2, 3)
    x = 1 - np.clip(depth / (EDGE_ROUNDING * shell.height * scale), 0, 1)
    return share * np.sqrt(1 - x * x).astype(np.float32)
