"""The 12 PIDray classes as shape families: several models per class, each a list of material parts.

Sizes are real-world millimetres (jittered per draw), thicknesses are X-ray path lengths in cm.
Metal parts are iron/steel (blue), handles and grips plastic or wood (orange), casings aluminium
(green), bullets lead (black). ``draw_item(class_name, rng)`` picks a model and builds one item.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from segloc.generator.geometry import (
    Part,
    Points,
    capsule,
    coil,
    ellipse,
    mirror_y,
    poly,
    rect,
    rotate,
    rounded_rect,
    shift,
)

PIDRAY_CLASSES = (
    "Baton",
    "Pliers",
    "Hammer",
    "Powerbank",
    "Scissors",
    "Wrench",
    "Gun",
    "Bullet",
    "Sprayer",
    "HandCuffs",
    "Knife",
    "Lighter",
)

Rng = np.random.Generator
Parts = list[Part]


def plate(outline: Points, material: str, t: float, holes: tuple[Points, ...] = ()) -> Part:
    """Flat part of uniform thickness."""
    return Part(outline, material, t, "flat", holes=holes)


def solid(outline: Points, material: str, t: float) -> Part:
    """Solid rounded part: thickest along its middle."""
    return Part(outline, material, t, "rod")


def hollow(outline: Points, material: str, t: float) -> Part:
    """Hollow part (tube, can, case): dark rims where the beam runs along the walls."""
    return Part(outline, material, t, "shell")


def filled(outline: Points, t: float, mineral: float, profile: str = "flat", width: float = 0.0) -> Parts:
    """Organic matter with mid-Z content (ash, PVC, rubber or paper fillers, glass fibre, salts), `mineral` cm of
    aluminium-equivalent per cm: reads yellower (~0.05) to green (~0.3 and up) like mixed materials. With a
    width, the outline is an open path stroked that wide."""
    return [Part(outline, "organic", t, profile, width), Part(outline, "aluminium", t * mineral, profile, width)]


def stroke(path: Points, width: float, material: str, t: float, profile: str = "rod") -> Part:
    """Open path drawn `width` mm wide (wires, rings, handles)."""
    return Part(path, material, t, profile, width=width)


def ring(cx: float, cy: float, r: float, width: float, material: str, t: float, n: int = 28) -> Part:
    """Closed ring of mean radius r."""
    path = ellipse(cx, cy, r, r, n + 1, 0.0, 2 * np.pi + 1e-9)
    return stroke(path, width, material, t, "flat")


def disc(cx: float, cy: float, r: float, material: str, t: float, profile: str = "flat") -> Part:
    """Round part (pivot, rivet, coin)."""
    return Part(ellipse(cx, cy, r, r, 16), material, t, profile)


def moved(
    parts: Parts,
    dx: float = 0.0,
    dy: float = 0.0,
    angle: float = 0.0,
    origin: tuple[float, float] = (0.0, 0.0),
    mirror: bool = False,
) -> Parts:
    """Copy of parts mirrored (y -> -y), rotated about origin, then shifted."""
    out = []
    for p in parts:

        def f(pts: Points) -> Points:
            return shift(rotate(mirror_y(pts) if mirror else pts, angle, origin), dx, dy)

        out.append(Part(f(p.outline), p.material, p.thickness, p.profile, p.width, tuple(f(h) for h in p.holes)))
    return out


# --- Baton -------------------------------------------------------------------------------------


def baton_telescopic(rng: Rng) -> Parts:
    """Extended telescopic baton: foam grip, three nested steel tubes, ball tip."""
    l1, d1 = rng.uniform(160, 210), rng.uniform(22, 28)
    l2, l3 = rng.uniform(110, 150), rng.uniform(100, 140)
    d2, d3 = d1 * 0.74, d1 * 0.55
    return [
        solid(rounded_rect(0, -d1 / 2, l1, d1 / 2, 4), "organic", d1 / 10),
        hollow(rect(-4, -d1 * 0.4, l1 + 12, d1 * 0.4), "iron", 0.3),
        hollow(rect(l1, -d2 / 2, l1 + l2, d2 / 2), "iron", 0.3),
        hollow(rect(l1 + l2 - 6, -d3 / 2, l1 + l2 + l3, d3 / 2), "iron", 0.35),
        disc(l1 + l2 + l3, 0, d3 * 0.8, "iron", d3 * 0.16, "rod"),
        plate(rect(-8, -d1 / 2, 0, d1 / 2), "iron", 0.8),
    ]


def baton_collapsed(rng: Rng) -> Parts:
    """Collapsed telescopic baton: the tubes nested inside the grip, tip and cap at the ends."""
    l1, d1 = rng.uniform(170, 230), rng.uniform(24, 30)
    return [
        solid(rounded_rect(0, -d1 / 2, l1, d1 / 2, 5), "organic", d1 / 10),
        hollow(rect(-4, -d1 * 0.42, l1 + 10, d1 * 0.42), "iron", 0.9),
        solid(rect(8, -d1 * 0.2, l1 + 4, d1 * 0.2), "iron", 0.6),
        disc(l1 + 14, 0, d1 * 0.42, "iron", d1 * 0.09, "rod"),
        plate(rect(-9, -d1 / 2, 0, d1 / 2), "iron", 0.9),
    ]


def baton_tonfa(rng: Rng) -> Parts:
    """Polymer side-handle baton (tonfa), or a plain rubber truncheon."""
    length, d = rng.uniform(420, 600), rng.uniform(30, 38)
    parts = [solid(capsule(0, 0, length, 0, d / 2), "organic", d / 10 * 1.6)]
    if rng.random() < 0.6:
        x = rng.uniform(120, 160)
        parts.append(solid(capsule(x, 0, x, d / 2 + rng.uniform(90, 120), d * 0.45), "organic", d / 10 * 1.2))
        parts.append(plate(ellipse(x, 0, 5, 5, 12), "iron", 0.6))
    return parts


# --- Pliers ------------------------------------------------------------------------------------


def _pliers(jaw: Points, handle_len: float, spread: float, grip: bool, open_angle: float) -> Parts:
    """Two mirrored arms crossing at a pivot at the origin; each arm = steel jaw + handle."""
    path = np.array([(0, 0), (-handle_len * 0.35, spread * 0.45), (-handle_len, spread)])
    arm = [plate(jaw, "iron", 0.9), stroke(path, 9, "iron", 0.6)]
    if grip:
        arm.append(stroke(path[1:] + [[-4, 0], [0, 0]], 16, "organic", 1.5))
    upper = moved(arm, angle=-open_angle / 2)
    lower = moved(arm, angle=open_angle / 2, mirror=True)
    return upper + lower + [disc(0, 0, 7, "iron", 1.0)]


def pliers_combination(rng: Rng) -> Parts:
    """Combination pliers: short wide jaws, plastic-coated handles."""
    lj = rng.uniform(35, 50)
    jaw = poly((-8, -9), (lj * 0.5, -9), (lj, -4), (lj, 0.5), (-8, 0.5))
    return _pliers(jaw, rng.uniform(110, 140), rng.uniform(16, 26), True, rng.uniform(0, 0.45))


def pliers_needle_nose(rng: Rng) -> Parts:
    """Needle-nose pliers: long tapering jaws."""
    lj = rng.uniform(50, 72)
    jaw = poly((-8, -8), (lj * 0.3, -7), (lj, -1.6), (lj, 0.5), (-8, 0.5))
    return _pliers(jaw, rng.uniform(105, 135), rng.uniform(16, 24), rng.random() < 0.8, rng.uniform(0, 0.4))


def pliers_locking(rng: Rng) -> Parts:
    """Locking pliers: all steel, curved jaws, adjusting screw at the end of one handle."""
    lh = rng.uniform(140, 180)
    jaw_up = ellipse(14, -4, 24, 11, 20, np.pi, 2 * np.pi)
    jaw_dn = mirror_y(jaw_up)
    handle_up = np.array([(0, -2), (-lh * 0.5, -14), (-lh, -16)])
    handle_dn = np.array([(0, 4), (-lh * 0.45, 22), (-lh * 0.9, 34)])
    return [
        plate(np.concatenate([jaw_up, [(-6, -1)]]), "iron", 1.0),
        plate(np.concatenate([jaw_dn, [(-6, 1)]]), "iron", 1.0),
        stroke(handle_up, 15, "iron", 0.45, "shell"),
        stroke(handle_dn, 11, "iron", 0.45, "shell"),
        solid(rect(-lh - 30, -20, -lh + 2, -12), "iron", 0.8),
        disc(0, 0, 6, "iron", 1.0),
    ]


# --- Hammer ------------------------------------------------------------------------------------


def hammer_claw(rng: Rng) -> Parts:
    """Claw hammer: wooden or fibreglass handle, steel head with a curved split claw."""
    lh, w = rng.uniform(250, 320), rng.uniform(26, 32)
    face = rounded_rect(lh - 14, -58, lh + 14, 0, 6)
    claw = poly((lh - 13, 0), (lh + 13, 0), (lh + 8, 30), (lh - 6, 62), (lh - 22, 78), (lh - 16, 55), (lh - 10, 28))
    return [
        solid(capsule(0, 0, lh + 4, 0, w / 2), "organic", w / 10 * 1.1),
        solid(face, "iron", 2.6),
        plate(claw, "iron", 1.2),
    ]


def hammer_ball_peen(rng: Rng) -> Parts:
    """Ball-peen hammer: steel shaft with rubber grip, head with a flat face and a round peen."""
    lh = rng.uniform(260, 330)
    return [
        hollow(rect(0, -8, lh, 8), "iron", 0.35),
        solid(rounded_rect(-4, -14, lh * 0.42, 14, 8), "organic", 2.6),
        solid(rounded_rect(lh - 14, -54, lh + 14, 4, 5), "iron", 2.6),
        solid(ellipse(lh, 20, 15, 24, 20), "iron", 2.4),
    ]


def hammer_club(rng: Rng) -> Parts:
    """Club hammer: short wooden handle, heavy rectangular steel head."""
    lh, hw = rng.uniform(200, 260), rng.uniform(36, 46)
    return [
        solid(capsule(0, 0, lh, 0, 15), "organic", 3.2),
        solid(rounded_rect(lh - hw / 2, -62, lh + hw / 2, 62, 8), "iron", 4.0),
    ]


# --- Powerbank ---------------------------------------------------------------------------------


def _pcb(x0: float, y0: float, x1: float, y1: float) -> Parts:
    """Circuit board: thin copper on fibreglass, a steel USB socket at one end."""
    return [
        plate(rect(x0, y0, x1, y1), "organic", 0.16),
        plate(rect(x0, y0, x1, y1), "copper", 0.035),
        plate(rect(x1 - 3, y0 + 4, x1 + 2, y1 - 4), "iron", 0.6),
    ]


def powerbank_cells(rng: Rng) -> Parts:
    """Plastic case holding 2-4 cylindrical 18650 cells."""
    n, length = int(rng.integers(2, 5)), 65.0
    width = n * 19 + 6
    parts = [hollow(rounded_rect(0, 0, length + 30, width, 8), "organic", 0.5)]
    for i in range(n):
        y0 = 3 + 19 * i
        cell = rect(3, y0, 3 + length, y0 + 18)
        parts += [
            hollow(cell, "iron", 0.06),
            plate(cell, "copper", 0.06),
            plate(cell, "aluminium", 0.15),
            solid(cell, "organic", 1.4),
        ]
    return parts + _pcb(length + 6, 4, length + 26, width - 4)


def powerbank_pouch(rng: Rng) -> Parts:
    """Aluminium case with a flat lithium-polymer pouch cell."""
    length, width = rng.uniform(120, 150), rng.uniform(62, 75)
    cell = rect(5, 5, length - 25, width - 5)
    return [
        hollow(rounded_rect(0, 0, length, width, 7), "aluminium", 0.3),
        plate(cell, "copper", 0.05),
        plate(cell, "aluminium", 0.12),
        plate(cell, "organic", 0.8),
    ] + _pcb(length - 23, 8, length - 5, width - 8)


def powerbank_slim(rng: Rng) -> Parts:
    """Small plastic power bank with a single cell."""
    length, width = rng.uniform(85, 105), rng.uniform(40, 50)
    cell = rect(4, 4, length - 20, width - 4)
    return [
        hollow(rounded_rect(0, 0, length, width, 10), "organic", 0.6),
        plate(cell, "copper", 0.05),
        plate(cell, "aluminium", 0.1),
        plate(cell, "organic", 0.9),
    ] + _pcb(length - 18, 6, length - 4, width - 6)


# --- Scissors ----------------------------------------------------------------------------------


def _scissors(
    blade_len: float, blade_w: float, ring_r: tuple[float, float], ring_mat: str, ring_t: float, open_angle: float
) -> Parts:
    """Two mirrored halves crossing at a pivot: blade ahead of the pivot, shank + finger ring behind."""
    halves = []
    for k, r in enumerate(ring_r):
        blade = poly(
            (-10, 1.5), (0, -blade_w), (blade_len * 0.55, -blade_w * 0.7), (blade_len, -0.8), (blade_len, 0.6), (0, 1.5)
        )
        centre = (-22 - r, 9 + r * 0.8)
        shank = np.array([(0, 0), (-14, 5), (centre[0] + r * 0.6, centre[1] - r * 0.5)])
        half = [plate(blade, "iron", 0.3), stroke(shank, 7, "iron", 0.3, "flat")]
        if ring_mat == "organic":
            half.append(ring(centre[0], centre[1], r, 8, "organic", ring_t))
        else:
            half.append(ring(centre[0], centre[1], r, 5, "iron", ring_t))
        halves += moved(half, angle=(-1) ** k * -open_angle / 2, mirror=k == 1)
    return halves + [disc(0, 0, 3.5, "iron", 0.8)]


def scissors_office(rng: Rng) -> Parts:
    """Office scissors: steel blades, plastic loops (one small, one large)."""
    small = rng.uniform(11, 14)
    return _scissors(
        rng.uniform(75, 110),
        rng.uniform(8, 11),
        (small, small * rng.uniform(1.2, 1.6)),
        "organic",
        1.0,
        rng.uniform(0, 0.7),
    )


def scissors_metal(rng: Rng) -> Parts:
    """All-metal scissors with steel finger rings."""
    r = rng.uniform(10, 13)
    return _scissors(rng.uniform(55, 85), rng.uniform(6, 9), (r, r), "iron", 0.45, rng.uniform(0, 0.6))


def scissors_tailor(rng: Rng) -> Parts:
    """Tailor's shears: long heavy blades, large loops."""
    r = rng.uniform(14, 18)
    return _scissors(
        rng.uniform(120, 150),
        rng.uniform(11, 14),
        (r, r * 1.3),
        rng.choice(["iron", "organic"]),
        0.8,
        rng.uniform(0, 0.5),
    )


# --- Wrench ------------------------------------------------------------------------------------


def wrench_combination(rng: Rng) -> Parts:
    """Combination spanner: open jaw at one end, closed ring at the other."""
    length, w = rng.uniform(140, 240), rng.uniform(12, 18)
    r_open, r_ring = w * 1.35, w * 1.1
    slot = rotate(rect(length - 0.1 * r_open, -0.45 * r_open, length + 2 * r_open, 0.45 * r_open), 0.26, (length, 0))
    return [
        plate(capsule(0, 0, length, 0, w / 2), "iron", 0.5),
        plate(ellipse(length + r_open * 0.3, 0, r_open, r_open, 24), "iron", 0.7, holes=(slot,)),
        plate(ellipse(0, 0, r_ring, r_ring, 24), "iron", 0.7, holes=(ellipse(0, 0, r_ring * 0.6, r_ring * 0.6, 12),)),
    ]


def wrench_adjustable(rng: Rng) -> Parts:
    """Adjustable wrench: handle with hanging hole, head with a fixed jaw, sliding jaw and worm screw."""
    length, w = rng.uniform(150, 250), rng.uniform(16, 22)
    r, gap = w * 1.5, rng.uniform(0.15, 0.6) * w
    tilt = 0.26
    slot = rotate(rect(length, -gap / 2, length + 2.5 * r, gap / 2), tilt, (length, 0))
    lower_half = rotate(rect(length - r, gap / 2, length + 2.5 * r, 2 * r), tilt, (length, 0))
    sliding = rotate(rect(length + 0.05 * r, gap / 2, length + 1.1 * r, gap / 2 + 0.55 * r), tilt, (length, 0))
    return [
        plate(capsule(0, 0, length, 0, w / 2), "iron", 0.6, holes=(ellipse(8, 0, 5, 3.5, 12),)),
        plate(ellipse(length + r * 0.3, 0, r, r, 24), "iron", 1.1, holes=(slot, lower_half)),
        plate(sliding, "iron", 1.1),
        solid(
            rotate(rect(length - 0.2 * r, gap / 2 + 0.5 * r, length + 0.6 * r, gap / 2 + 0.85 * r), tilt, (length, 0)),
            "iron",
            0.9,
        ),
    ]


def wrench_hex_key(rng: Rng) -> Parts:
    """Large L-shaped hex key."""
    a, b, w = rng.uniform(90, 160), rng.uniform(30, 50), rng.uniform(6, 11)
    return [stroke(np.array([(0, 0), (a, 0), (a + 3, b)]), w, "iron", w / 10)]


# --- Gun ---------------------------------------------------------------------------------------


def gun_pistol(rng: Rng) -> Parts:
    """Semi-automatic pistol: steel slide and barrel, polymer frame and grip, loaded magazine."""
    L = rng.uniform(170, 205)
    grip = poly((0.08 * L, 26), (0.40 * L, 26), (0.36 * L, 128), (0.1 * L, 134), (0.03 * L, 104))
    magazine = poly((0.14 * L, 30), (0.34 * L, 30), (0.31 * L, 126), (0.13 * L, 126))
    parts = [
        hollow(rounded_rect(0, 0, L, 30, 4), "iron", 1.3),
        solid(rect(0.2 * L, 8, L, 22), "iron", 1.1),
        solid(grip, "organic", 4.5),
        solid(rect(0.38 * L, 24, 0.96 * L, 38), "organic", 3.5),
        hollow(magazine, "iron", 0.35),
        stroke(np.array([(0.42 * L, 36), (0.45 * L, 56), (0.66 * L, 56), (0.68 * L, 36)]), 6, "organic", 1.2),
        plate(poly((0.5 * L, 34), (0.53 * L, 34), (0.5 * L, 50), (0.47 * L, 48)), "iron", 0.6),
    ]
    for k in range(int(rng.integers(3, 7))):
        parts.append(solid(rect(0.16 * L + k * 1.6, 36 + 13 * k, 0.31 * L, 46 + 13 * k), "copper", 0.9))
    return parts


def gun_revolver(rng: Rng) -> Parts:
    """Revolver: steel barrel, frame and cylinder (chambers loaded with lead), wooden grip."""
    lb = rng.uniform(60, 150)
    cx = 0.0
    parts = [
        solid(rect(-lb, -8, 0, 8), "iron", 1.6),
        plate(rect(-lb, -11, 0, -7), "iron", 0.8),
        solid(rounded_rect(cx, -17, cx + 42, 19, 4), "iron", 3.6),
        plate(poly((cx - 4, -20), (cx + 60, -20), (cx + 72, 6), (cx + 60, 26), (cx - 4, 24)), "iron", 1.2),
        solid(
            poly((cx + 52, 4), (cx + 76, 0), (cx + 98, 70), (cx + 90, 108), (cx + 62, 110), (cx + 56, 60)),
            "organic",
            4.5,
        ),
        stroke(np.array([(cx + 18, 24), (cx + 20, 44), (cx + 44, 46), (cx + 52, 26)]), 5, "iron", 0.5),
        plate(poly((cx + 62, -18), (cx + 78, -30), (cx + 82, -26), (cx + 70, -10)), "iron", 0.8),
    ]
    for y in (-12, 0, 12):
        parts.append(solid(rect(cx + 3, y - 3.5, cx + 39, y + 3.5), "lead", 0.8))
    return parts


def gun_rifle(rng: Rng) -> Parts:
    """Short rifle / carbine: barrel, receiver, curved magazine, pistol grip and stock."""
    L = rng.uniform(420, 620)
    r0, r1 = 0.3 * L, 0.55 * L
    parts = [
        solid(rect(r1, -6, L, 6), "iron", 1.2),
        hollow(rect(r1, -17, r1 + 0.25 * L, 17), "aluminium", 0.8),
        solid(rounded_rect(r0, -20, r1 + 6, 22, 4), "aluminium", 3.2),
        solid(rect(r0 + 10, -10, r1, 8), "iron", 1.2),
        hollow(poly((r1 - 60, 20), (r1 - 20, 20), (r1 - 10, 105), (r1 - 46, 110)), "iron", 0.5),
        solid(poly((r0 + 20, 18), (r0 + 46, 18), (r0 + 34, 86), (r0 + 12, 84)), "organic", 2.8),
        plate(rect(L - 20, -22, L - 12, -6), "iron", 1.0),
    ]
    if rng.random() < 0.5:
        parts.append(solid(poly((0, -18), (r0, -14), (r0, 12), (0, 50)), "organic", 3.5))
    else:
        parts += [
            hollow(rect(40, -10, r0, 8), "aluminium", 0.6),
            solid(rounded_rect(0, -20, 60, 44, 6), "organic", 3.0),
        ]
    return parts


# --- Bullet ------------------------------------------------------------------------------------


def bullet_pistol(rng: Rng) -> Parts:
    """Pistol cartridge: brass case, lead bullet."""
    d = rng.uniform(9, 11.5)
    case_len = d * 2.0
    tip = np.concatenate(
        [
            [(case_len - 1, -d / 2)],
            ellipse(case_len, 0, d * 1.2, d / 2, 14, -np.pi / 2, np.pi / 2),
            [(case_len - 1, d / 2)],
        ]
    )
    return [
        hollow(rect(0, -d / 2, case_len, d / 2), "copper", 0.1),
        solid(tip, "lead", d / 10),
        plate(rect(0, -d / 2 - 0.6, 2, d / 2 + 0.6), "copper", 0.5),
    ]


def bullet_rifle(rng: Rng) -> Parts:
    """Bottlenecked rifle cartridge with a pointed jacketed bullet."""
    d = rng.uniform(10, 12)
    case = poly(
        (0, -d / 2),
        (d * 3.6, -d / 2),
        (d * 4.0, -d * 0.27),
        (d * 4.4, -d * 0.27),
        (d * 4.4, d * 0.27),
        (d * 4.0, d * 0.27),
        (d * 3.6, d / 2),
        (0, d / 2),
    )
    tip = poly((d * 4.1, -d * 0.27), (d * 5.2, -d * 0.22), (d * 6.0, 0), (d * 5.2, d * 0.22), (d * 4.1, d * 0.27))
    return [hollow(case, "copper", 0.12), solid(tip, "lead", d / 18), plate(rect(0, -d / 2, 2, d / 2), "copper", 0.5)]


def bullet_shotgun(rng: Rng) -> Parts:
    """Shotgun shell: plastic hull, brass head, lead shot."""
    d, length = rng.uniform(18, 21), rng.uniform(60, 72)
    parts = [
        hollow(rect(0, -d / 2, length, d / 2), "organic", 0.4),
        hollow(rect(-1, -d / 2 - 1, 14, d / 2 + 1), "copper", 0.12),
    ]
    for _ in range(int(rng.integers(10, 18))):
        x, y = rng.uniform(24, length - 4), rng.uniform(-d / 2 + 3, d / 2 - 3)
        parts.append(disc(x, y, 1.8, "lead", 0.4, "rod"))
    return parts


def bullet_clip(rng: Rng) -> Parts:
    """A few pistol cartridges side by side (loose or in a clip)."""
    parts: Parts = []
    for k in range(int(rng.integers(2, 6))):
        parts += moved(bullet_pistol(rng), dy=k * 12.5)
    return parts


# --- Sprayer -----------------------------------------------------------------------------------


def sprayer_aerosol(rng: Rng) -> Parts:
    """Aerosol can (aluminium or tinplate) partly filled with liquid, plastic cap, steel valve."""
    length, d = rng.uniform(140, 210), rng.uniform(45, 62)
    can_mat = "aluminium" if rng.random() < 0.6 else "iron"
    fill = rng.uniform(0.3, 0.9)
    return [
        hollow(rounded_rect(0, -d / 2, length, d / 2, 8), can_mat, 0.12 if can_mat == "aluminium" else 0.05),
        solid(rect(3, -d / 2 + 2, 3 + fill * (length - 10), d / 2 - 2), "organic", d / 10 * 0.8),
        hollow(rounded_rect(length - 2, -d * 0.42, length + 40, d * 0.42, 6), "organic", 0.35),
        plate(rect(length - 4, -4, length + 8, 4), "iron", 0.4),
        plate(rect(length - 30, -1, length, 1), "organic", 0.2),
    ]


def sprayer_pepper(rng: Rng) -> Parts:
    """Pepper spray: small aluminium can, flip-top actuator, key ring."""
    length, d = rng.uniform(80, 110), rng.uniform(22, 30)
    return [
        hollow(rounded_rect(0, -d / 2, length, d / 2, 5), "aluminium", 0.15),
        solid(rect(2, -d / 2 + 1.5, length * 0.75, d / 2 - 1.5), "organic", d / 10 * 0.8),
        solid(rounded_rect(length - 2, -d / 2 - 1, length + 26, d / 2 + 1, 5), "organic", 1.6),
        plate(rect(length, -2.5, length + 8, 2.5), "iron", 0.4),
        ring(-14, 0, 12, 2.2, "iron", 0.22),
    ]


def sprayer_pump(rng: Rng) -> Parts:
    """Plastic pump-spray bottle: liquid, dip tube, trigger head with a steel spring."""
    length, d = rng.uniform(150, 200), rng.uniform(55, 70)
    head = poly(
        (length, -d * 0.3),
        (length + 55, -d * 0.3),
        (length + 62, -d * 0.1),
        (length + 30, 0),
        (length + 30, d * 0.45),
        (length + 12, d * 0.45),
        (length, d * 0.2),
    )
    return [
        hollow(rounded_rect(0, -d / 2, length, d / 2, 12), "organic", 0.3),
        solid(rect(3, -d / 2 + 3, length * rng.uniform(0.3, 0.8), d / 2 - 3), "organic", d / 10 * 0.85),
        plate(rect(6, -1.5, length + 20, 1.5), "organic", 0.4),
        hollow(head, "organic", 0.8),
        stroke(coil(length + 18, -6, 22, 3.5, 6), 0.9, "iron", 0.1),
    ]


# --- HandCuffs ---------------------------------------------------------------------------------


def _cuff(cx: float, r: float, side: int, rng: Rng) -> Parts:
    """One cuff: a steel ring with a lock box on the side facing the link."""
    box_x = cx - side * (r + 2)
    tilt = rng.uniform(-0.4, 0.4)
    parts = [
        ring(cx, 0, r, 8, "iron", 0.5),
        solid(rotate(rect(box_x - 9, -15, box_x + 9, 15), tilt, (cx, 0)), "iron", 1.6),
    ]
    return parts


def handcuffs_chain(rng: Rng) -> Parts:
    """Chain handcuffs: two ringed cuffs joined by two or three links."""
    r, n_links = rng.uniform(30, 40), int(rng.integers(2, 4))
    gap = 11 * n_links
    parts = _cuff(-(r + 12 + gap / 2), r, -1, rng) + _cuff(r + 12 + gap / 2, r, 1, rng)
    for k in range(n_links):
        x = -gap / 2 + 5.5 + 11 * k
        path = ellipse(x, 0, 6.5, 4.2 if k % 2 else 2.0, 13, 0, 2 * np.pi + 1e-9)
        parts.append(stroke(path, 2.6, "iron", 0.5, "flat"))
    for x in (-gap / 2 - 4, gap / 2 + 4):
        parts.append(disc(x, 0, 4, "iron", 0.8))
    return parts


def handcuffs_hinged(rng: Rng) -> Parts:
    """Hinged handcuffs: two cuffs joined by a double hinge plate."""
    r = rng.uniform(30, 40)
    parts = _cuff(-(r + 24), r, -1, rng) + _cuff(r + 24, r, 1, rng)
    parts += [plate(rect(-16, -7, 16, 7), "iron", 1.0), disc(-14, 0, 4, "iron", 1.2), disc(14, 0, 4, "iron", 1.2)]
    return parts


def handcuffs_open(rng: Rng) -> Parts:
    """Handcuffs with one or both swing arms open (partial rings)."""
    r = rng.uniform(30, 40)
    parts: Parts = []
    for side in (-1, 1):
        cx = side * (r + 20)
        a0 = rng.uniform(0.3, 1.6)
        path = ellipse(cx, 0, r, r, 22, a0, a0 + rng.uniform(3.6, 5.4))
        parts += [
            stroke(path, 8, "iron", 0.5, "flat"),
            solid(rect(cx - side * (r + 11), -15, cx - side * (r - 7), 15), "iron", 1.6),
        ]
    parts += [stroke(np.array([(-r * 0.4, 0), (r * 0.4, 0)]), 4, "iron", 0.8)]
    return parts


# --- Knife -------------------------------------------------------------------------------------


def knife_kitchen(rng: Rng) -> Parts:
    """Kitchen knife: thin steel blade with a curved edge, plastic or wood handle with rivets."""
    lb, w, lh = rng.uniform(140, 230), rng.uniform(24, 46), rng.uniform(100, 130)
    edge = [(lb * f, w / 2 - (w * 0.85) * max(0.0, (f - 0.55) / 0.45) ** 2) for f in np.linspace(0, 1, 9)]
    blade = np.array([(0, -w / 2), (lb * 0.85, -w / 2), (lb, -w / 2 + 2)] + edge[::-1])
    h = min(w * 0.7, 24)
    parts = [
        plate(blade, "iron", 0.22),
        solid(rounded_rect(-lh, -h / 2, 4, h / 2, 6), "organic", 1.8),
        plate(rect(-lh + 8, -h * 0.3, 0, h * 0.3), "iron", 0.25),
        plate(rect(-2, -w / 2, 6, w / 2), "iron", 0.9),
    ]
    parts += [disc(-lh * f, 0, 2.5, "iron", 0.6) for f in (0.2, 0.5, 0.8)]
    return parts


def knife_folding(rng: Rng) -> Parts:
    """Folding knife: liner handle with scales, blade open or folded into the handle."""
    lh, w = rng.uniform(95, 125), rng.uniform(16, 22)
    lb = lh * rng.uniform(0.75, 0.9)
    blade = poly((0, -w * 0.35), (lb * 0.7, -w * 0.4), (lb, 0), (lb * 0.6, w * 0.3), (0, w * 0.25))
    if rng.random() < 0.3:
        blade = rotate(blade, np.pi, (0, 0))
    liner = "aluminium" if rng.random() < 0.5 else "iron"
    return [
        solid(rounded_rect(-lh, -w / 2, 6, w / 2, 6), "organic", 1.1),
        plate(rounded_rect(-lh, -w / 2 + 1, 4, w / 2 - 1, 5), liner, 0.3 if liner == "iron" else 0.8),
        plate(blade, "iron", 0.32),
        disc(0, 0, 4.5, "iron", 1.0),
        plate(rect(-lh * 0.9, -w / 2 - 2, -lh * 0.3, -w / 2 + 1), "iron", 0.25),
    ]


def knife_dagger(rng: Rng) -> Parts:
    """Dagger: symmetric double-edged blade, steel guard and pommel, wrapped grip."""
    lb, w, lh = rng.uniform(130, 220), rng.uniform(22, 34), rng.uniform(90, 120)
    blade = poly((0, -w / 2), (lb * 0.7, -w * 0.38), (lb, 0), (lb * 0.7, w * 0.38), (0, w / 2))
    return [
        solid(blade, "iron", 0.55),
        solid(rounded_rect(-8, -w * 1.1, 2, w * 1.1, 3), "iron", 1.2),
        solid(rounded_rect(-lh, -12, -8, 12, 5), "organic", 2.4),
        plate(rect(-lh, -3, 0, 3), "iron", 0.5),
        solid(ellipse(-lh - 6, 0, 10, 14, 16), "iron", 2.0),
    ]


def knife_utility(rng: Rng) -> Parts:
    """Utility knife (box cutter): metal or plastic body, small trapezoid blade, slider."""
    length, w = rng.uniform(120, 160), rng.uniform(18, 26)
    body = "aluminium" if rng.random() < 0.5 else "organic"
    return [
        hollow(
            poly((0, -w / 2), (length, -w / 2), (length + 6, -w / 4), (length, w / 2), (0, w / 2)),
            body,
            1.0 if body == "aluminium" else 1.8,
        ),
        plate(
            poly((length - 10, -w / 3), (length + 24, -w / 3), (length + 14, w / 4), (length - 10, w / 4)), "iron", 0.1
        ),
        solid(rect(length * 0.45, -w / 2 - 3, length * 0.6, -w / 2 + 3), "iron", 0.5),
        plate(rect(length * 0.2, -w / 3, length - 10, -w / 3 + 3), "iron", 0.4),
    ]


# --- Lighter -----------------------------------------------------------------------------------


def lighter_disposable(rng: Rng) -> Parts:
    """Disposable lighter: plastic body with liquid butane, steel hood, flint wheel, spring."""
    length, w = rng.uniform(65, 80), rng.uniform(22, 26)
    fill = rng.uniform(0.2, 0.85)
    return [
        hollow(rounded_rect(0, -w / 2, length, w / 2, 5), "organic", 0.6),
        solid(rect(3, -w / 2 + 2, 3 + fill * (length - 6), w / 2 - 2), "organic", 1.0),
        hollow(rect(length - 2, -w / 2, length + 14, w / 2), "iron", 0.12),
        disc(length + 8, w * 0.15, 4.5, "iron", 0.7),
        stroke(coil(length - 10, -w * 0.2, 12, 2, 4), 0.8, "iron", 0.12),
        plate(rect(length - 2, -1.5, length + 10, 1.5), "iron", 0.4),
    ]


def lighter_zippo(rng: Rng) -> Parts:
    """Windproof petrol lighter: steel case, chimney with holes, cotton-filled insert."""
    h, w = rng.uniform(52, 58), rng.uniform(36, 39)
    holes = tuple(ellipse(x, -h * 0.35, 1.6, 1.6, 8) for x in np.linspace(-w * 0.3, w * 0.3, 4))
    return [
        hollow(rounded_rect(-w / 2, -h / 2, w / 2, h / 2, 4), "iron", 0.2),
        hollow(rounded_rect(-w / 2 + 2, -h * 0.45, w / 2 - 2, h / 2 - 2, 3), "iron", 0.15),
        solid(rect(-w / 2 + 4, -h * 0.1, w / 2 - 4, h / 2 - 4), "organic", 2.2),
        plate(rect(-w * 0.35, -h * 0.48, w * 0.35, -h * 0.2), "iron", 0.3, holes=holes),
        disc(w * 0.25, -h * 0.42, 4, "iron", 0.8),
    ]


def lighter_torch(rng: Rng) -> Parts:
    """Jet torch lighter: aluminium or plastic body, steel burner nozzle, ignition button."""
    length, w = rng.uniform(85, 110), rng.uniform(28, 34)
    body = "aluminium" if rng.random() < 0.5 else "organic"
    return [
        hollow(rounded_rect(0, -w / 2, length, w / 2, 6), body, 0.8),
        solid(rect(4, -w / 2 + 3, length * 0.6, w / 2 - 3), "organic", 1.2),
        solid(rect(length, -5, length + 20, 5), "iron", 0.9),
        plate(rect(length * 0.6, -w / 2 - 3, length * 0.78, -w / 2 + 4), "iron", 0.4),
    ]


MODELS: dict[str, tuple[Callable[[Rng], Parts], ...]] = {
    "Baton": (baton_telescopic, baton_collapsed, baton_tonfa),
    "Pliers": (pliers_combination, pliers_needle_nose, pliers_locking),
    "Hammer": (hammer_claw, hammer_ball_peen, hammer_club),
    "Powerbank": (powerbank_cells, powerbank_pouch, powerbank_slim),
    "Scissors": (scissors_office, scissors_metal, scissors_tailor),
    "Wrench": (wrench_combination, wrench_adjustable, wrench_hex_key),
    "Gun": (gun_pistol, gun_revolver, gun_rifle),
    "Bullet": (bullet_pistol, bullet_rifle, bullet_shotgun, bullet_clip),
    "Sprayer": (sprayer_aerosol, sprayer_pepper, sprayer_pump),
    "HandCuffs": (handcuffs_chain, handcuffs_hinged, handcuffs_open),
    "Knife": (knife_kitchen, knife_folding, knife_dagger, knife_utility),
    "Lighter": (lighter_disposable, lighter_zippo, lighter_torch),
}
# Bullets are small: they are drawn larger than life so that they stay visible at scan scale.
SIZE_BOOST = {"Bullet": 1.6, "Lighter": 1.15}


def draw_item(class_name: str, rng: Rng) -> tuple[str, Parts]:
    """Pick one of the class's models at random and build it; returns (model name, parts)."""
    if class_name not in MODELS:
        raise ValueError(f"unknown item class {class_name!r}; known: {', '.join(MODELS)}")
    models = MODELS[class_name]
    model = models[int(rng.integers(len(models)))]
    return model.__name__, model(rng)
