"""Class-balanced hierarchical loss (SIXray paper, section 4.3, eqn 6).

Per level, an element-wise binary cross-entropy on the logits, multiplied by a 0/1 weight: a
positive label always counts; a negative label counts only while that level's logit is not
already confidently negative (logit >= ``threshold``; the authors' code masks logits < -20). The
paper adds the hierarchy: a class switched off at a level stays off at every lower level, so the
masks are built top level first and AND-ed downwards (``hierarchical=False`` gives the per-level
masks of the authors' ``engine.py``). The paper's wording ("true only if the prediction is smaller
than a fixed threshold") reads the other way round; we follow the code, which matches the stated
aim of removing easy negatives.

As in the authors' code: labels 1/-1/0 map to 1/0/1 (difficult counts as present in training),
each level's loss is the mean over batch x classes of the masked terms (masked entries count as
zeros), and the levels' losses are summed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

REFERENCE_THRESHOLD = -20.0


class LossParts(NamedTuple):
    """The total loss, each level's loss (top first) and the fraction of label entries kept."""

    total: Tensor
    levels: list[Tensor]
    kept: Tensor


def binary_targets(labels: Tensor) -> Tensor:
    """SIXray labels 1/-1/0 (present/absent/difficult) as float targets 1/0/1."""
    return (labels >= 0).to(torch.float32)


@torch.no_grad()
def balanced_masks(
    logits: Sequence[Tensor], targets: Tensor, threshold: float = REFERENCE_THRESHOLD, hierarchical: bool = True
) -> list[Tensor]:
    """Boolean keep-masks, one per level (``logits`` ordered top level first).

    keep = positive OR logit >= threshold; with ``hierarchical`` also AND the mask of the level above.
    """
    positive = targets > 0.5
    masks: list[Tensor] = []
    for level_logits in logits:
        keep = positive | (level_logits.detach() >= threshold)
        if hierarchical and masks:
            keep = keep & masks[-1]
        masks.append(keep)
    return masks


class ClassBalancedLoss(nn.Module):
    """Sum over levels of masked (``balanced``) or plain BCE-with-logits, optional per-class pos_weight."""

    def __init__(
        self,
        balanced: bool = True,
        threshold: float = REFERENCE_THRESHOLD,
        hierarchical: bool = True,
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__()
        self.balanced, self.threshold, self.hierarchical = balanced, threshold, hierarchical
        self.register_buffer("pos_weight", pos_weight, persistent=False)

    def forward(self, logits: Tensor | Sequence[Tensor], labels: Tensor) -> LossParts:
        """``logits``: one (B, C) tensor or a sequence of them, top level first; ``labels``: (B, C) 1/-1/0."""
        if isinstance(logits, Tensor):
            logits = [logits]
        targets = binary_targets(labels)
        if self.balanced:
            masks = balanced_masks(logits, targets, self.threshold, self.hierarchical)
        else:
            masks = [torch.ones_like(targets, dtype=torch.bool) for _ in logits]
        levels = []
        for level_logits, keep in zip(logits, masks):
            terms = F.binary_cross_entropy_with_logits(
                level_logits.float(), targets, pos_weight=self.pos_weight, reduction="none"
            )
            levels.append((terms * keep).mean())
        kept = torch.stack([m.float().mean() for m in masks]).mean()
        return LossParts(torch.stack(levels).sum(), levels, kept)
