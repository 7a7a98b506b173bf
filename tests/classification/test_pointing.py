"""CAM pointing: peak location convention, tolerance, per-class counts."""

import math

import numpy as np
import pytest

from segloc.evaluation.pointing import PointingCounts, peak_point, point_in_boxes


def peaked_map(row, col, shape=(40, 50)):
    heatmap = np.zeros(shape)
    heatmap[row, col] = 1.0
    return heatmap


def test_peak_point_is_one_based_x_y():
    assert peak_point(peaked_map(10, 20)) == (21.0, 11.0)


def test_inside_edge_and_outside():
    point = peak_point(peaked_map(10, 20))
    assert point_in_boxes(point, [(21, 11, 30, 20)])  # on the top-left corner: inside
    assert not point_in_boxes(point, [(22, 11, 30, 20)])
    assert point_in_boxes(point, [(22, 11, 30, 20)], tolerance=1)
    assert point_in_boxes(point, [(0, 0, 5, 5), (15, 5, 25, 15)])  # any box will do


def test_tolerance_is_euclidean():
    point = (21.0, 11.0)
    box = [(24, 15, 30, 30)]  # dx = 3, dy = 4 -> distance 5
    assert point_in_boxes(point, box, tolerance=5)
    assert not point_in_boxes(point, box, tolerance=4.9)


def test_counts_per_class_and_mean():
    counts = PointingCounts(["Gun", "Knife", "Wrench"])
    box = [(21, 11, 30, 20)]
    assert counts.add("Gun", peaked_map(10, 20), box)
    assert not counts.add("Gun", peaked_map(0, 0), box)
    assert counts.add("Gun", peaked_map(15, 25), box)
    assert not counts.add("Knife", peaked_map(39, 49), box)
    per_class, mean = counts.accuracy()
    assert per_class[0] == pytest.approx(2 / 3)
    assert per_class[1] == 0.0
    assert math.isnan(per_class[2])
    assert mean == pytest.approx((2 / 3 + 0) / 2)
    assert counts.hits == {"Gun": 2} and counts.misses == {"Gun": 1, "Knife": 1}


def test_counts_reject_bad_pairs():
    counts = PointingCounts(["Gun"])
    with pytest.raises(ValueError, match="unknown class"):
        counts.add("Hammer", peaked_map(1, 1), [(1, 1, 2, 2)])
    with pytest.raises(ValueError, match="no ground-truth box"):
        counts.add("Gun", peaked_map(1, 1), [])
