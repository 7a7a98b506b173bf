"""Dictionaries of negative keys: MoCo/InsLoc's one queue per level, SegLoc's one queue per class.

Both banks hold ``keys [levels, queues, size, dim]``, the class label of every entry
(``labels [queues, size]``, -1 where never written), one write pointer per queue and the
number of keys each queue has received. They differ in two methods only:

- :meth:`queue_index`: which queue a query takes its negatives from (always 0 / its class's);
- :meth:`accepts`: which keys of a batch enter which queue (all / every key not of its class).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from segloc.errors import SeglocError


class LevelQueues(nn.Module):
    """One FIFO queue of ``size`` keys per pyramid level; every key enters (MoCo v2, InsLoc)."""

    def __init__(self, levels: Sequence[str], dim: int = 128, size: int = 65536, num_queues: int = 1) -> None:
        super().__init__()
        if size < 1:
            raise ValueError(f"queue size must be positive, got {size}")
        self.levels = tuple(levels)
        self.size = size
        keys = F.normalize(torch.randn(len(self.levels), num_queues, size, dim), dim=-1)
        self.register_buffer("keys", keys)
        self.register_buffer("labels", torch.full((num_queues, size), -1, dtype=torch.long))
        self.register_buffer("ptr", torch.zeros(num_queues, dtype=torch.long))
        self.register_buffer("written", torch.zeros(num_queues, dtype=torch.long))

    @property
    def num_queues(self) -> int:
        return self.keys.shape[1]

    def queue_index(self, labels: Tensor) -> Tensor:
        """Queue of each query's negatives: the single shared queue."""
        return torch.zeros_like(labels)

    def accepts(self, labels: Tensor) -> Tensor:
        """``[queues, N]`` mask of which batch keys enter which queue: all of them."""
        return torch.ones(self.num_queues, labels.shape[0], dtype=torch.bool, device=labels.device)

    def fill(self) -> float:
        """Fraction of the entries written by real keys, averaged over queues (0..1)."""
        return float(self.written.clamp(max=self.size).sum()) / (self.size * self.num_queues)

    def is_full(self) -> bool:
        """True once every queue has received at least ``size`` keys."""
        return bool((self.written >= self.size).all())

    @torch.no_grad()
    def enqueue(self, keys: Tensor, labels: Tensor) -> None:
        """Write ``keys [levels, N, dim]`` (with class ``labels [N]``) into every accepting queue.

        Each queue writes its accepted keys, in batch order, from its own pointer onwards, wrapping
        around; when more than ``size`` are accepted only the last ``size`` are kept.
        """
        if keys.shape[0] != len(self.levels) or keys.shape[1] != labels.shape[0]:
            raise ValueError(
                f"keys {tuple(keys.shape)} do not fit {len(self.levels)} levels and {labels.shape[0]} labels"
            )
        accept = self.accepts(labels)
        rank = accept.cumsum(1) - 1
        count = accept.sum(1)
        keep = accept & (rank >= (count - self.size).unsqueeze(1))
        queue, item = keep.nonzero(as_tuple=True)
        slot = (self.ptr[queue] + rank[queue, item]) % self.size
        self.keys[:, queue, slot] = keys[:, item].to(self.keys.dtype)
        self.labels[queue, slot] = labels[item]
        self.ptr.copy_((self.ptr + count) % self.size)
        self.written.add_(count)


class ClassQueues(LevelQueues):
    """SegLoc: per level, one queue per class; queue c holds only keys of classes other than c.

    A query of class c takes its negatives from queue c only, so a same-class key is never a
    negative. ``classes`` are the dataset's class ids (e.g. PIDray's 1..12), in queue order.
    """

    def __init__(self, levels: Sequence[str], classes: Sequence[int], dim: int = 128, size: int = 16384) -> None:
        if len(set(classes)) != len(classes) or not classes:
            raise ValueError(f"class ids must be unique and non-empty, got {list(classes)}")
        super().__init__(levels, dim, size, num_queues=len(classes))
        self.register_buffer("classes", torch.tensor(list(classes), dtype=torch.long))

    def queue_index(self, labels: Tensor) -> Tensor:
        """Queue of each query's negatives: its own class's queue."""
        match = labels.unsqueeze(1) == self.classes.unsqueeze(0)
        if not bool(match.any(1).all()):
            unknown = sorted(set(labels[~match.any(1)].tolist()))
            raise SeglocError(
                f"labels {unknown} are not among the queue classes {self.classes.tolist()}; "
                "class queues need labelled (SegLoc) pairs"
            )
        return match.float().argmax(1)

    def accepts(self, labels: Tensor) -> Tensor:
        """``[classes, N]`` mask: a key enters every queue except its own class's."""
        return labels.unsqueeze(0) != self.classes.unsqueeze(1)


def class_queue_violations(labels: Tensor, classes: Tensor) -> int:
    """Entries of queue c labelled c (0 when SegLoc's invariant holds); works on checkpoint tensors."""
    return int((labels == classes.unsqueeze(1)).sum())
