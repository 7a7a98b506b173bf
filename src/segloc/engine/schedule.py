"""Learning-rate multipliers (for ``torch.optim.lr_scheduler.LambdaLR``) with linear warm-up."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence


def cosine_with_warmup(total_steps: int, warmup_steps: int = 0, warmup_start: float = 0.001) -> Callable[[int], float]:
    """Linear warm-up to 1, then half-cosine decay to 0 at ``total_steps``."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return warmup_start + (1 - warmup_start) * step / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def multistep_with_warmup(
    milestones: Sequence[int], gamma: float = 0.1, warmup_steps: int = 0, warmup_start: float = 0.001
) -> Callable[[int], float]:
    """Linear warm-up, then multiply by ``gamma`` at each milestone step (the detectors' recipe)."""

    def factor(step: int) -> float:
        warm = warmup_start + (1 - warmup_start) * step / warmup_steps if step < warmup_steps else 1.0
        return warm * gamma ** sum(step >= m for m in milestones)

    return factor
