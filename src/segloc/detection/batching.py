"""Training batches cut from an epoch's order, with scans that pad to the same shape kept together.

A batch is padded to its largest scan, so one portrait scan among landscape ones makes every member
square. Grouping scans by the shape they are padded to (detectron2's aspect-ratio grouping) removes
that padding and keeps the order random: a batch is emitted when its group fills, in the epoch's order.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from segloc.detection.transforms import resized_shape


def padded_shape(height: int, width: int, long_side: int, divisor: int) -> tuple[int, int]:
    """The (height, width) a scan takes in a batch: resized to ``long_side``, rounded up to ``divisor``."""
    h, w = resized_shape(height, width, long_side)
    return -(-h // divisor) * divisor, -(-w // divisor) * divisor


def grouped_batches(order: Sequence[int], keys: Sequence[Hashable], size: int) -> list[list[int]]:
    """``order`` cut into batches of ``size`` whose members share ``keys[index]``, each in the order it
    fills; the groups' remainders follow, mixed, in ``order``'s order. Every position of ``order`` is
    used once and there are ceil(len(order) / size) batches, as without grouping."""
    batches: list[list[int]] = []
    filling: dict[Hashable, list[tuple[int, int]]] = {}
    for position, index in enumerate(order):
        group = filling.setdefault(keys[index], [])
        group.append((position, index))
        if len(group) == size:
            batches.append([i for _, i in group])
            del filling[keys[index]]
    rest = [i for _, i in sorted(item for group in filling.values() for item in group)]
    batches.extend(rest[start : start + size] for start in range(0, len(rest), size))
    return batches
