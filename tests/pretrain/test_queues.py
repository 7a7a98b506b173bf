"""Queue banks: pointers wrap per queue, SegLoc's class invariant, queue choice per query."""

from __future__ import annotations

import pytest
import torch

from segloc.errors import SeglocError
from segloc.pretrain.queues import ClassQueues, LevelQueues, class_queue_violations


def keys_for(labels: list[int], levels: int = 2, dim: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Keys whose first coordinate encodes the batch position (to read the order back)."""
    n = len(labels)
    keys = torch.zeros(levels, n, dim)
    keys[:, :, 0] = torch.arange(n, dtype=torch.float32) + 100
    keys[1:] *= -1
    return keys, torch.tensor(labels)


def test_level_queue_pointer_wraps_and_keeps_order() -> None:
    q = LevelQueues(("p2", "p3"), dim=4, size=5)
    q.enqueue(*keys_for([-1, -1, -1]))
    assert q.ptr.tolist() == [3] and q.fill() == pytest.approx(0.6)
    q.enqueue(*keys_for([-1, -1, -1]))
    assert q.ptr.tolist() == [1] and q.written.tolist() == [6] and q.is_full()
    # second batch wrote slots 3, 4, 0 with positions 0, 1, 2
    assert q.keys[0, 0, :, 0].tolist() == [102.0, 101.0, 102.0, 100.0, 101.0]
    assert q.keys[1, 0, :, 0].tolist() == [-102.0, -101.0, -102.0, -100.0, -101.0]


def test_more_keys_than_size_keeps_the_last_ones() -> None:
    q = LevelQueues(("p2",), dim=4, size=4)
    q.enqueue(*keys_for([-1] * 7, levels=1))
    assert q.ptr.tolist() == [3]
    assert sorted(q.keys[0, 0, :, 0].tolist()) == [103.0, 104.0, 105.0, 106.0]


def test_class_queues_each_have_their_own_pointer() -> None:
    q = ClassQueues(("p2", "p3"), classes=[1, 2, 3], dim=4, size=4)
    q.enqueue(*keys_for([1, 1, 2]))
    # queue of class 1 takes only the class-2 key; class 2 takes both 1s; class 3 takes all three
    assert q.ptr.tolist() == [1, 2, 3]
    assert q.labels.tolist() == [[2, -1, -1, -1], [1, 1, -1, -1], [1, 1, 2, -1]]
    assert q.keys[0, 0, 0, 0] == 102.0 and q.keys[0, 1, :2, 0].tolist() == [100.0, 101.0]
    q.enqueue(*keys_for([3, 3, 3]))
    assert q.ptr.tolist() == [0, 1, 3]  # class-3 queue rejected its own keys
    assert q.labels[0].tolist() == [2, 3, 3, 3] and q.labels[1].tolist() == [3, 1, 3, 3]


def test_class_invariant_after_many_random_batches() -> None:
    torch.manual_seed(0)
    classes = [1, 2, 3, 5, 8]
    q = ClassQueues(("p2", "p3", "p4"), classes=classes, dim=8, size=37)
    for _ in range(50):
        labels = torch.tensor(classes)[torch.randint(len(classes), (11,))]
        q.enqueue(torch.randn(3, 11, 8), labels)
    assert class_queue_violations(q.labels, q.classes) == 0
    assert q.is_full() and (q.labels >= 0).all()
    assert torch.equal(q.ptr, q.written % 37)
    for i, c in enumerate(classes):  # every other class did reach queue c
        assert set(q.labels[i].tolist()) == set(classes) - {c}
    corrupted = q.labels.clone()
    corrupted[2, 5] = classes[2]
    assert class_queue_violations(corrupted, q.classes) == 1


def test_queue_index_maps_class_ids_and_rejects_unknown() -> None:
    q = ClassQueues(("p2",), classes=[4, 7, 9], dim=4, size=4)
    assert q.queue_index(torch.tensor([9, 4, 7, 9])).tolist() == [2, 0, 1, 2]
    assert LevelQueues(("p2",), dim=4, size=4).queue_index(torch.tensor([9, -1])).tolist() == [0, 0]
    with pytest.raises(SeglocError, match=r"\[-1\]"):
        q.queue_index(torch.tensor([4, -1]))
