"""Class-balanced loss: the masking rule on constructed logits, and the loss value it gives."""

import pytest
import torch
import torch.nn.functional as F

from segloc.classification.loss import ClassBalancedLoss, balanced_masks, binary_targets

# one image, four classes: present, absent, absent, difficult (counts as present in training)
LABELS = torch.tensor([[1.0, -1.0, -1.0, 0.0]])
TOP = torch.tensor([[-30.0, -30.0, 5.0, -30.0]])
MID = torch.tensor([[-30.0, 5.0, -30.0, -30.0]])
LOW = torch.tensor([[0.0, 0.0, 0.0, 0.0]])


def test_targets_from_sixray_labels():
    assert binary_targets(LABELS).tolist() == [[1.0, 0.0, 0.0, 1.0]]


def test_hierarchical_masks_switch_classes_off_downwards():
    masks = balanced_masks([TOP, MID, LOW], binary_targets(LABELS), threshold=-20, hierarchical=True)
    assert [m.tolist() for m in masks] == [
        [[True, False, True, True]],  # class 1 confidently negative at the top: off
        [[True, False, False, True]],  # stays off; class 2 now confidently negative: off
        [[True, False, False, True]],  # the bottom level's own logits would keep everything
    ]


def test_per_level_masks_as_in_the_reference_code():
    masks = balanced_masks([TOP, MID, LOW], binary_targets(LABELS), threshold=-20, hierarchical=False)
    assert [m.tolist() for m in masks] == [
        [[True, False, True, True]],
        [[True, True, False, True]],
        [[True, True, True, True]],
    ]


def test_threshold_boundary_and_parameter():
    targets = torch.zeros(1, 3)
    logits = torch.tensor([[-20.0, -20.001, -5.0]])
    assert balanced_masks([logits], targets, threshold=-20)[0].tolist() == [[True, False, True]]
    assert balanced_masks([logits], targets, threshold=-4)[0].tolist() == [[False, False, False]]


def manual_bce(logits, targets):
    p = torch.sigmoid(logits.double())
    return -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p))


def test_loss_value_is_sum_of_masked_level_means():
    parts = ClassBalancedLoss(balanced=True, threshold=-20)([TOP, MID, LOW], LABELS)
    targets = binary_targets(LABELS).double()
    keep = [torch.tensor([[1, 0, 1, 1]]), torch.tensor([[1, 0, 0, 1]]), torch.tensor([[1, 0, 0, 1]])]
    expected = [(manual_bce(z, targets) * k).sum() / 4 for z, k in zip((TOP, MID, LOW), keep)]
    assert parts.total.item() == pytest.approx(sum(expected).item(), rel=1e-5)
    assert [v.item() for v in parts.levels] == pytest.approx([e.item() for e in expected], rel=1e-5)
    assert parts.kept.item() == pytest.approx(7 / 12)


def test_unbalanced_loss_is_plain_bce_and_masked_entries_get_no_gradient():
    plain = ClassBalancedLoss(balanced=False)([TOP, MID, LOW], LABELS).total
    targets = binary_targets(LABELS)
    expected = sum(F.binary_cross_entropy_with_logits(z, targets) for z in (TOP, MID, LOW))
    assert plain.item() == pytest.approx(expected.item(), rel=1e-6)

    logits = [t.clone().requires_grad_(True) for t in (TOP, MID, LOW)]
    ClassBalancedLoss(balanced=True)(logits, LABELS).total.backward()
    assert logits[2].grad[0, 1] == 0 and logits[2].grad[0, 2] == 0
    assert logits[2].grad[0, 0] != 0 and logits[0].grad[0, 2] != 0


def test_pos_weight_scales_positive_terms():
    logits, labels = torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, -1.0]])
    weighted = ClassBalancedLoss(balanced=False, pos_weight=torch.tensor([3.0, 3.0]))(logits, labels).total
    assert weighted.item() == pytest.approx((3 * 0.693147 + 0.693147) / 2, rel=1e-5)
