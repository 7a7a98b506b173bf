"""InfoNCE with per-query negatives: each query is contrasted with the queue it is assigned to."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def contrastive_logits(query: Tensor, key: Tensor, bank: Tensor, queue_index: Tensor, temperature: float) -> Tensor:
    """Logits ``[N, 1 + size]``: column 0 is q.k+, the rest q.n for the negatives of q's queue.

    ``query``, ``key``: ``[N, dim]`` unit vectors; ``bank``: ``[queues, size, dim]``;
    ``queue_index``: ``[N]`` queue of each query. One matrix product per queue in use, so the
    cost is that of a single shared queue (N x size x dim) whatever the number of queues.
    """
    with torch.autocast(query.device.type, enabled=False):  # float32 logits under AMP too
        positive = (query * key).sum(1, keepdim=True)
        if bank.shape[0] == 1:
            negative = query @ bank[0].T
        else:
            negative = query.new_empty(query.shape[0], bank.shape[1])
            for queue in torch.unique(queue_index).tolist():
                rows = (queue_index == queue).nonzero(as_tuple=True)[0]
                negative[rows] = query[rows] @ bank[queue].T
        return torch.cat([positive, negative], dim=1) / temperature


def info_nce(logits: Tensor) -> tuple[Tensor, Tensor]:
    """Cross-entropy with the positive at index 0, and the contrastive top-1 accuracy."""
    target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
    loss = F.cross_entropy(logits, target)
    accuracy = (logits.argmax(dim=1) == 0).float().mean()
    return loss, accuracy.detach()


def positive_rank(logits: Tensor, negatives: Tensor | None = None) -> Tensor:
    """Mean share of each query's negatives that score below its positive (ties count half).

    0.5 when the positive is no more alike than a negative, whatever the embeddings' spread, 1 when
    every positive beats every negative. The loss mixes learning with spread: a spread head that has
    learned nothing sits above ln(1 + negatives) and a collapsed one reaches it. ``negatives``: an
    optional ``[N, K]`` mask of the columns after the positive that count as each query's negatives.
    """
    logits = logits.detach()
    positive, negative = logits[:, :1], logits[:, 1:]
    below = (negative < positive).float() + 0.5 * (negative == positive).float()
    if negatives is None:
        return below.mean()
    return ((below * negatives).sum(1) / negatives.sum(1)).mean()
