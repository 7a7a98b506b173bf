"""InfoNCE with per-query negatives against a hand computation."""

from __future__ import annotations

import math

import torch

from segloc.pretrain.loss import contrastive_logits, info_nce, positive_rank


def test_loss_matches_hand_computation() -> None:
    t = 0.2
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    k = torch.tensor([[0.6, 0.8], [0.0, 1.0]])
    bank = torch.tensor(
        [
            [[1.0, 0.0], [0.0, -1.0]],  # queue 0
            [[0.8, 0.6], [-0.6, 0.8]],
        ]
    )  # queue 1
    logits = contrastive_logits(q, k, bank, torch.tensor([1, 0]), t)
    # query 0 (queue 1): pos 0.6, negs 0.8, -0.6 ; query 1 (queue 0): pos 1.0, negs 0.0, -1.0
    expected = [[0.6 / t, 0.8 / t, -0.6 / t], [1.0 / t, 0.0, -1.0 / t]]
    assert torch.allclose(logits, torch.tensor(expected))
    loss, acc = info_nce(logits)
    by_hand = [-(row[0] - math.log(sum(math.exp(v) for v in row))) for row in expected]
    assert math.isclose(loss.item(), sum(by_hand) / 2, rel_tol=1e-6)
    assert acc.item() == 0.5  # query 0's best logit is a negative
    assert math.isclose(positive_rank(torch.tensor(expected)).item(), (0.5 + 1.0) / 2)  # beats 1 of 2, 2 of 2


def test_positive_rank_is_half_at_chance_whatever_the_spread() -> None:
    """Collapsed (all logits equal) and spread-but-unlearned (positive drawn like a negative) both read 0.5,
    though their losses differ; a positive that stands out reads near 1."""
    collapsed = torch.full((8, 257), 3.0)
    torch.manual_seed(0)
    spread = torch.randn(4096, 257) * 2.0
    learned = spread.clone()
    learned[:, 0] += 6.0
    assert positive_rank(collapsed).item() == 0.5
    assert abs(positive_rank(spread).item() - 0.5) < 0.02
    assert info_nce(spread)[0].item() > info_nce(collapsed)[0].item() + 1.0  # the loss ranks them the other way
    assert positive_rank(learned).item() > 0.95
    masked = torch.tensor([[1.0, 2.0, 0.0, 5.0]])  # positive 1.0; negatives 2.0 and 0.0 count, 5.0 does not
    assert positive_rank(masked, negatives=torch.tensor([[True, True, False]])).item() == 0.5


def _six_queries_three_queues() -> tuple[torch.Tensor, ...]:
    """Random unit queries and keys ``[6, 8]``, a bank of 3 queues of 5 and each query's queue."""
    torch.manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(6, 8), dim=1)
    k = torch.nn.functional.normalize(torch.randn(6, 8), dim=1)
    bank = torch.nn.functional.normalize(torch.randn(3, 5, 8), dim=2)
    return q, k, bank, torch.tensor([2, 0, 2, 1, 0, 2])


def test_each_query_reads_only_its_queue() -> None:
    q, k, bank, index = _six_queries_three_queues()
    logits = contrastive_logits(q, k, bank, index, 0.5)
    for i in range(6):
        assert torch.allclose(logits[i, 1:], q[i] @ bank[index[i]].T / 0.5)
    poisoned = bank.clone()
    poisoned[1] = float("nan")
    clean_rows = index != 1
    assert torch.isfinite(contrastive_logits(q, k, poisoned, index, 0.5)[clean_rows]).all()


def test_logits_stay_float32_under_autocast() -> None:
    """Under AMP (bf16 autocast) the per-queue products are written into one float32 matrix."""
    q, k, bank, index = _six_queries_three_queues()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = contrastive_logits(q, k, bank, index, 0.5)
    assert logits.dtype == torch.float32
    assert torch.allclose(logits, contrastive_logits(q, k, bank, index, 0.5))
