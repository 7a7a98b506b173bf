"""The narrow RPN head (same outputs per level and anchor as torchvision's, a fraction of the cost) and
proposal filtering by prefix NMS (the same proposals as torchvision's)."""

from __future__ import annotations

import torch
from torchvision.models.detection.rpn import RegionProposalNetwork as TorchvisionRPN
from torchvision.models.detection.rpn import RPNHead as TorchvisionRPNHead
from torchvision.ops import boxes as box_ops

from segloc.detection import ModelConfig, build_detector
from segloc.detection.rpn import RegionProposalNetwork, RPNHead, nms_top


def test_narrow_head_has_torchvision_output_shapes() -> None:
    features = [torch.randn(2, 32, s, s) for s in (16, 8, 4)]
    ours, theirs = RPNHead(32, 3, channels=8), TorchvisionRPNHead(32, 3)
    for a, b in zip(ours(features), theirs(features)):
        assert [t.shape for t in a] == [t.shape for t in b]
    assert sum(p.numel() for p in ours.parameters()) < 0.3 * sum(p.numel() for p in theirs.parameters())


def test_detector_with_a_narrow_rpn_trains_and_predicts() -> None:
    cfg = ModelConfig(
        arch="resnet18",
        attention=False,
        image_size=128,
        rpn_channels=16,
        roi_batch_per_image=32,
        box_head_dim=64,
        rpn_post_nms_train=100,
        rpn_post_nms_test=50,
    )
    torch.manual_seed(0)
    model = build_detector(cfg, num_classes=2, masks=False)
    assert isinstance(model.rpn.head, RPNHead) and model.rpn.head.conv.out_channels == 16
    images = [torch.rand(3, 96, 128)]
    targets = [{"boxes": torch.tensor([[10.0, 20.0, 60.0, 70.0]]), "labels": torch.tensor([1])}]
    losses = model(images, targets)
    assert {"loss_objectness", "loss_rpn_box_reg"} <= set(losses) and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert model.rpn.head.conv.weight.grad is not None
    model.eval()
    with torch.no_grad():
        assert set(model(images)[0]) == {"boxes", "scores", "labels"}


def _candidates(
    generator: torch.Generator, count: int, side: float, clusters: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random xyxy boxes in a ``side``-square image, near copies of ``clusters`` boxes (so that NMS at
    0.5 keeps about one per cluster), and their scores."""
    centres = torch.rand(clusters, 2, generator=generator) * side
    halves = 4 + torch.rand(clusters, 2, generator=generator) * side / 6
    pick = torch.randint(clusters, (count,), generator=generator)
    centre = centres[pick] + torch.randn(count, 2, generator=generator) * 0.3
    boxes = torch.cat([centre - halves[pick], centre + halves[pick]], dim=1)
    return boxes, torch.rand(count, generator=generator)


def test_nms_top_keeps_what_full_nms_keeps_first() -> None:
    generator = torch.Generator().manual_seed(0)
    # (boxes, clusters, limit): most kept; the prefix doubled; fewer kept than asked; fewer boxes than asked
    for count, clusters, limit in [(400, 300, 20), (1000, 60, 55), (600, 20, 30), (30, 10, 100)]:
        boxes, scores = _candidates(generator, count, 100.0, clusters)
        groups = torch.zeros(count, dtype=torch.int64)
        full = box_ops.batched_nms(boxes, scores, groups, 0.5)
        assert torch.equal(nms_top(boxes, scores, groups, 0.5, limit), full[:limit])
        first_prefix = scores.argsort(descending=True)[: 2 * limit]
        doubled = len(box_ops.nms(boxes[first_prefix], scores[first_prefix], 0.5)) < limit
        assert doubled == (clusters < 300), (count, clusters, limit)


def test_proposal_filtering_matches_torchvision() -> None:
    cfg = ModelConfig(arch="resnet18", attention=False, image_size=128, rpn_pre_nms_test=60, rpn_post_nms_test=25)
    ours = build_detector(cfg, num_classes=2, masks=False).rpn
    assert isinstance(ours, RegionProposalNetwork)
    theirs = TorchvisionRPN(
        ours.anchor_generator, ours.head, 0.7, 0.3, 256, 0.5, ours._pre_nms_top_n, ours._post_nms_top_n, 0.7
    )
    generator = torch.Generator().manual_seed(1)
    per_level = [300, 120, 40]
    boxes, _ = _candidates(generator, 3 * sum(per_level), 128.0, clusters=40)
    proposals = boxes.reshape(3, -1, 4) - 10
    objectness = torch.randn(3, sum(per_level), generator=generator)
    shapes = [(128, 96), (100, 128), (64, 64)]
    for model in (ours, theirs):
        model.eval()
    for a, b in zip(
        ours.filter_proposals(proposals, objectness, shapes, per_level),
        theirs.filter_proposals(proposals, objectness, shapes, per_level),
    ):
        assert [len(t) for t in a] == [len(t) for t in b]
        assert all(torch.equal(x, y) for x, y in zip(a, b))
