"""Benign contents and small hardware: every object builds and renders; cloth is soft-edged and woven."""

from __future__ import annotations

import numpy as np
import pytest

from segloc.generator.clutter import CLUTTER, cover_pile, garment, trinket, wire_wrap
from segloc.generator.fittings import buckle, chain, screw, tube, wheel, zip_line
from segloc.generator.geometry import Pose, along, rect
from segloc.generator.raster import MATERIAL_INDEX, Canvas, rasterise
from segloc.generator.scan import centred
from segloc.generator.shapes import filled

MAKERS = {make.__name__: make for make, _ in CLUTTER} | {
    "garment": lambda rng: garment(rng, 300, 220),
    "trinket": trinket,
    "wire_wrap": lambda rng: wire_wrap(rng, 60, 20),
    "cover_pile": lambda rng: cover_pile(rng, 60, 20),
    "fittings": lambda rng: (
        screw(0, 0, 0.3, rng)
        + zip_line(np.array([(0, 0), (120, 10)]), rng, pullers=2)
        + buckle(40, 40, 0.5, rng)
        + wheel(80, 0, 25, 1.0, rng)
        + [tube(0, 60, 150, 60, 25, "iron", 0.15)]
        + chain(np.array([(0, 90), (80, 100)]), rng)
    ),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_every_object_renders_inside_its_canvas(name):
    for seed in range(3):
        parts, half_len, _ = centred(MAKERS[name](np.random.default_rng([seed, 3])))
        canvas = Canvas(240, 240)
        canvas.draw(parts, Pose(min(1.0, 100 / half_len), 0.4, seed == 1, 120, 120))
        assert np.isfinite(canvas.thickness).all() and canvas.thickness.min() >= 0
        assert canvas.thickness.sum() > 0, name


def test_along_spreads_points_evenly_by_arc_length():
    points, angles = along(np.array([(0.0, 0.0), (10.0, 0.0), (10.0, 30.0)]), 4)
    assert np.allclose(points, [(5, 0), (10, 5), (10, 15), (10, 25)])
    assert np.allclose(angles, [0, np.pi / 2, np.pi / 2, np.pi / 2])


def test_cloth_thins_out_at_its_edges_and_its_weave_is_fixed_to_the_image():
    part = filled(rect(0, 0, 60, 60), 1.0, 0.0, "cloth")[0]
    y0, x0, local, cover = rasterise(part, Pose(1.0, cx=20, cy=20), 120, 120)
    inside = local[cover > 0]
    assert local[cover == 0].max() < 0.6  # soft edge spills only a little
    assert inside.std() > 0.05  # the weave
    row = local[:, 30 - x0 : 70 - x0].mean(axis=1)  # the part covers rows 20-80
    assert row[19 - y0] < 0.5 * row[40 - y0 : 60 - y0].mean() and row[20 - y0] < 0.9 * row[40 - y0 : 60 - y0].mean()
    again = rasterise(part, Pose(1.0, cx=20, cy=20), 120, 120)[2]
    assert np.array_equal(local, again)


def test_filled_matter_carries_its_mineral_share():
    organic, mineral = filled(rect(0, 0, 10, 10), 2.0, 0.25)
    assert (organic.material, organic.thickness) == ("organic", 2.0)
    assert (mineral.material, mineral.thickness) == ("aluminium", 0.5)


def test_a_tube_is_pale_on_its_axis_and_dark_along_its_walls():
    y0, x0, local, cover = rasterise(tube(0, 0, 100, 0, 30, "aluminium", 0.3), Pose(1.0, cx=10, cy=40), 80, 120)
    across = local[:, 60 - x0]  # a column through the middle of the tube (rows 25-55)
    inside = across[cover[:, 60 - x0] > 0]
    assert inside.max() > 2.5 * inside[len(inside) // 2]
    assert inside[len(inside) // 2] == pytest.approx(0.3, rel=0.2)  # two walls' worth on the axis


def test_a_canvas_adds_up_its_parts_one_by_one():
    parts, _, _ = centred(garment(np.random.default_rng(4), 300, 220) + filled(rect(0, 0, 40, 30), 1.0, 0.0))
    pose = Pose(0.5, 0.3, True, 120, 110)
    room = np.random.default_rng(5).uniform(0.2, 1.0, (240, 260)).astype(np.float32)
    canvas, mask = Canvas(240, 260), np.zeros((240, 260), np.uint8)
    canvas.draw(parts, pose, mask, clip=room)
    expected, covered = np.zeros_like(canvas.thickness), np.zeros_like(mask)
    for part in parts:
        y0, x0, local, cover = rasterise(part, pose, 240, 260)
        h, w = cover.shape
        expected[MATERIAL_INDEX[part.material], y0 : y0 + h, x0 : x0 + w] += local * room[y0 : y0 + h, x0 : x0 + w]
        covered[y0 : y0 + h, x0 : x0 + w] |= cover
    assert np.allclose(canvas.thickness, expected, atol=1e-5)
    assert np.array_equal(mask, covered)
