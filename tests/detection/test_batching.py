"""Aspect-ratio grouping: every scan once, as many batches as without it, full batches of one padded shape."""

from __future__ import annotations

import math

import numpy as np
import pytest

from segloc.detection.batching import grouped_batches, padded_shape


def test_padded_shape_resizes_the_long_side_and_rounds_up() -> None:
    assert padded_shape(1000, 1600, 160, 32) == (128, 160)
    assert padded_shape(1600, 1000, 160, 32) == (160, 128)
    assert padded_shape(900, 1000, 160, 32) == (160, 160)


@pytest.mark.parametrize("n, size", [(23, 4), (24, 4), (5, 8), (17, 1)])
def test_grouped_batches_use_every_position_once(n: int, size: int) -> None:
    rng = np.random.default_rng(n)
    keys = [("tall", "wide", "square")[k] for k in rng.integers(3, size=n)]
    order = [int(i) for i in rng.permutation(n)]
    batches = grouped_batches(order, keys, size)
    assert sorted(i for b in batches for i in b) == sorted(order)
    assert len(batches) == math.ceil(n / size) and all(0 < len(b) <= size for b in batches)
    full = [b for b in batches if len({keys[i] for i in b}) == 1 and len(b) == size]
    groups = {k: keys.count(k) for k in set(keys)}
    assert len(full) == sum(count // size for count in groups.values())


def test_batches_come_in_the_order_they_fill() -> None:
    keys = ["a", "b", "a", "b", "b", "a"]
    assert grouped_batches([0, 1, 3, 4, 2, 5], keys, 2) == [[1, 3], [0, 2], [4, 5]]


def test_one_key_is_plain_chunking() -> None:
    order = [4, 0, 3, 1, 2]
    assert grouped_batches(order, [None] * 5, 2) == [[4, 0], [3, 1], [2]]
