"""Bags on the belt: every kind fits its belt image with a white margin (SIXray: above and below only, the
scan starting and ending with the bag), leaves room for contents inside its walls, and SIXray scans are
cropped around the bag."""

from __future__ import annotations

import numpy as np
import pytest

from segloc.generator.bag import BAG_KINDS, BELT_MARGIN, EDGE_SPREAD, PIDRAY_SIZE, make_bag
from segloc.generator.detector import NOISE_BANK_SIZE
from segloc.generator.raster import Canvas


def drawn(bag) -> np.ndarray:
    canvas = Canvas(bag.height, bag.width)
    bag.draw(canvas)
    return canvas.thickness.sum(axis=0)


@pytest.mark.parametrize("style", sorted(BAG_KINDS))
def test_every_kind_fits_its_belt_image_with_a_margin(style, monkeypatch):
    kinds, _ = BAG_KINDS[style]
    for kind in kinds:
        monkeypatch.setitem(BAG_KINDS, style, ((kind,), (1.0,)))
        for seed in range(3):
            bag = make_bag(np.random.default_rng([seed, 11]), style)
            path = drawn(bag)
            ys, xs = np.nonzero(path > 0)
            assert min(ys.min(), bag.height - 1 - ys.max()) >= BELT_MARGIN - 1, kind.__name__
            sides = xs.min(), bag.width - 1 - xs.max()
            if style == "pidray":
                assert min(sides) >= BELT_MARGIN - 1, (kind.__name__, sides)
            else:
                assert max(sides) <= EDGE_SPREAD, (kind.__name__, sides)
            assert max(bag.width, bag.height) <= NOISE_BANK_SIZE
            if style == "pidray":
                assert PIDRAY_SIZE["width"][0] <= bag.width <= PIDRAY_SIZE["width"][1]
                assert PIDRAY_SIZE["height"][0] <= bag.height <= PIDRAY_SIZE["height"][1]


def test_sixray_scans_are_cropped_round_the_bag():
    for seed in range(8):
        bag = make_bag(np.random.default_rng([seed, 12]), "sixray")
        ys, xs = np.nonzero(drawn(bag) > 0)
        assert (ys.max() - ys.min()) / bag.height > 0.9 and (xs.max() - xs.min()) / bag.width > 0.9


def test_room_for_contents_is_inside_the_walls_and_rises_inward():
    for style in sorted(BAG_KINDS):
        for seed in range(4):
            bag = make_bag(np.random.default_rng([seed, 13]), style)
            path = drawn(bag)
            assert bag.room.min() >= 0 and bag.room.max() == pytest.approx(1.0, abs=1e-3)
            assert not (bag.room > 0)[path == 0].any()  # no room outside the bag's own parts
            assert (bag.room[bag.interior > 0] > 0).all()
            ys, xs = np.nonzero(bag.room > 0)
            edge = bag.room[ys.min(), xs[ys == ys.min()]].max()  # the topmost row of the room is near its edge
            assert edge < 0.6


def test_bag_frame_maps_its_millimetres_to_pixels():
    bag = make_bag(np.random.default_rng(5), "sixray")
    w, length = bag.size
    corners = bag.level(0.0).apply(np.array([[-w / 2, -length / 2], [w / 2, length / 2]]))
    assert np.hypot(*(corners[1] - corners[0])) == pytest.approx(np.hypot(w, length) * bag.scale)


def test_fan_beam_draws_the_top_of_a_bag_nearer_the_source_axis_along_the_height_only():
    for seed in range(5):
        bag = make_bag(np.random.default_rng([seed, 14]), "sixray")
        w, length = bag.size
        corners = np.array([[-w / 2, -length / 2], [w / 2, -length / 2], [w / 2, length / 2], [-w / 2, length / 2]])
        floor, lid = bag.level(0.0).apply(corners), bag.level(1.0).apply(corners)
        assert lid[:, 0] == pytest.approx(floor[:, 0])  # the belt's direction is a parallel projection
        axis = bag.level(1.0).fan
        assert (np.abs(lid[:, 1] - axis) < np.abs(floor[:, 1] - axis) + 1e-9).all()
        assert 0.65 < np.ptp(lid[:, 1]) / np.ptp(floor[:, 1]) < 0.95  # a 12-30 cm bag, the source 0.6-1.5 m away


def test_sixray_bags_lie_at_every_slant_as_real_ones_do():
    offs = []
    for seed in range(200):
        turned = make_bag(np.random.default_rng([seed, 15]), "sixray").level(0.0).angle % np.pi
        offs.append(np.degrees(min(turned, np.pi - turned)))  # long axis off upright, 0-90 degrees
    offs = np.array(offs)
    # real SIXray negatives: ~40 % within 15 degrees of upright, ~4 % across the belt, ~30 % at 35-75 degrees
    assert 0.25 < (offs < 15).mean() < 0.55
    assert 0.2 < ((offs > 35) & (offs < 75)).mean() < 0.45
    assert (offs > 85).mean() > 0.01
