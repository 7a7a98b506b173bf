"""VOC average precision against hand calculations and brute-force re-implementations."""

import math

import numpy as np
import pytest

from segloc.evaluation.voc_ap import average_precision, mean_average_precision

SCORES = [0.9, 0.8, 0.7, 0.6, 0.5]
LABELS = [1, -1, 1, 0, 1]  # the 0.6 entry is difficult and must be ignored


def test_reference_ap_by_hand_ignores_difficult():
    # kept ranking: + - + +  -> precision at the positives 1/1, 2/3, 3/4
    assert average_precision(SCORES, LABELS) == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    # counting the difficult entry as a negative would give (1 + 2/3 + 3/5) / 3 instead
    as_negative = [1, -1, 1, -1, 1]
    assert average_precision(SCORES, as_negative) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)


def test_voc07_and_area_by_hand():
    # recall [1/3, 1/3, 2/3, 1], precision [1, 1/2, 2/3, 3/4]
    assert average_precision(SCORES, LABELS, "voc07") == pytest.approx((4 * 1 + 7 * 0.75) / 11)
    assert average_precision(SCORES, LABELS, "area") == pytest.approx(1 / 3 + 0.75 / 3 + 0.75 / 3)


def brute_reference(scores, labels):
    kept = [(s, y) for s, y in zip(scores, labels) if y != 0]
    positives = [s for s, y in kept if y == 1]
    total = 0.0
    for s in positives:
        above = [y for t, y in kept if t >= s]
        total += sum(1 for y in above if y == 1) / len(above)
    return total / len(positives)


def _pr_points(scores, labels):
    kept = [(s, y) for s, y in zip(scores, labels) if y != 0]
    n_pos = sum(1 for _, y in kept if y == 1)
    points = []
    for s, _ in kept:
        above = [y for t, y in kept if t >= s]
        tp = sum(1 for y in above if y == 1)
        points.append((tp / n_pos, tp / len(above)))
    return points


def brute_voc07(scores, labels):
    points = _pr_points(scores, labels)
    total = 0.0
    for t in [i / 10 for i in range(11)]:
        total += max([p for r, p in points if r >= t - 1e-12], default=0.0)
    return total / 11


def brute_area(scores, labels):
    points = sorted(_pr_points(scores, labels))
    area, previous = 0.0, 0.0
    for r, _ in points:
        if r > previous:
            area += (r - previous) * max(p for r2, p in points if r2 >= r)
            previous = r
    return area


@pytest.mark.parametrize("seed", range(5))
def test_matches_brute_force_on_random_rankings(seed):
    rng = np.random.default_rng(seed)
    n = 40
    scores = rng.permutation(n) / n + rng.normal(0, 1e-3, n)  # distinct scores
    labels = rng.choice([1, -1, -1, -1, 0], size=n)
    labels[0] = 1
    assert average_precision(scores, labels) == pytest.approx(brute_reference(scores, labels))
    assert average_precision(scores, labels, "voc07") == pytest.approx(brute_voc07(scores, labels))
    assert average_precision(scores, labels, "area") == pytest.approx(brute_area(scores, labels))


def test_perfect_and_worst_rankings():
    assert average_precision([3, 2, 1, 0], [1, 1, -1, -1]) == pytest.approx(1.0)
    assert average_precision([3, 2, 1, 0], [-1, -1, 1, 1]) == pytest.approx((1 / 3 + 2 / 4) / 2)


def test_mean_skips_classes_without_positives():
    scores = np.array([[0.9, 0.1, 0.5], [0.1, 0.9, 0.4], [0.2, 0.3, 0.3]])
    labels = np.array([[1, -1, -1], [-1, -1, -1], [-1, 1, 0]])
    per_class, mean = mean_average_precision(scores, labels)
    assert per_class[0] == pytest.approx(1.0)
    assert per_class[1] == pytest.approx(0.5)
    assert math.isnan(per_class[2])
    assert mean == pytest.approx(0.75)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="labels must be"):
        average_precision([0.1, 0.2], [1, 2])
    with pytest.raises(ValueError, match="differ in length"):
        average_precision([0.1, 0.2], [1])
    with pytest.raises(ValueError, match="unknown AP method"):
        average_precision([0.1], [1], "voc12")
