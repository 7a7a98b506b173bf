"""Cascade heads: the paper's stage settings, per-stage IoU sampling, mmdet-style test-time scoring."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import MultiScaleRoIAlign, box_iou

from segloc.detection import ModelConfig, build_detector, cascade_maskrcnn
from segloc.detection.builders import has_masks
from segloc.detection.cascade import AgnosticBoxPredictor, CascadeRoIHeads, CascadeStage

SMALL = {
    "arch": "resnet18",
    "attention": False,
    "image_size": 96,
    "fpn_channels": 32,
    "mask_head_dim": 32,
    "box_head_dim": 64,
    "rpn_pre_nms_train": 100,
    "rpn_post_nms_train": 50,
    "rpn_pre_nms_test": 50,
    "rpn_post_nms_test": 20,
    "roi_batch_per_image": 16,
}


def test_stage_settings_follow_the_paper() -> None:
    model = cascade_maskrcnn(12, ModelConfig(**SMALL))
    heads = model.roi_heads
    assert isinstance(heads, CascadeRoIHeads) and len(heads.stages) == 3
    stds = [(0.1, 0.1, 0.2, 0.2), (0.05, 0.05, 0.1, 0.1), (0.033, 0.033, 0.067, 0.067)]
    for stage, iou, weight, std in zip(heads.stages, (0.5, 0.6, 0.7), (1.0, 0.5, 0.25), stds):
        assert stage.matcher.high_threshold == stage.matcher.low_threshold == iou
        assert stage.loss_weight == weight
        assert stage.coder.weights == pytest.approx(tuple(1 / s for s in std))
        assert stage.predictor.bbox_pred.out_features == 4  # class-agnostic
        assert stage.predictor.cls_score.out_features == 13
    assert heads.box_roi_pool.featmap_names == ["p2", "p3", "p4", "p5"]
    assert heads.box_roi_pool.output_size == (7, 7) and heads.mask_roi_pool.output_size == (14, 14)
    assert sum(isinstance(m, nn.Conv2d) for m in heads.mask_head.modules()) == 4
    assert model.rpn.anchor_generator.sizes == ((32,), (64,), (128,), (256,), (512,))
    assert model.transform.min_size == (96,) and model.transform.max_size == 96


def _stage(iou: float) -> CascadeStage:
    return CascadeStage(
        nn.Flatten(),
        AgnosticBoxPredictor(4, 2),
        iou,
        (0.1, 0.1, 0.2, 0.2),
        1.0,
        batch_size_per_image=64,
        positive_fraction=1.0,
    )


def test_sampling_labels_at_each_stage_threshold_and_flags_gt_copies() -> None:
    gt = torch.tensor([[10.0, 10.0, 50.0, 50.0]])
    proposals = torch.tensor([[10.0, 10.0, 50.0, 36.0], [10.0, 10.0, 50.0, 32.0], [60.0, 60.0, 90.0, 90.0]])
    ious = box_iou(gt, proposals)[0]
    assert 0.6 < ious[0] < 0.7 and 0.5 < ious[1] < 0.6 and ious[2] == 0
    target = {"boxes": gt, "labels": torch.tensor([2])}
    expected = {0.5: [2, 2, 0, 2], 0.6: [2, 0, 0, 2], 0.7: [0, 0, 0, 2]}
    for iou, labels in expected.items():
        out = _stage(iou).sample([proposals], [target])
        candidates = torch.cat([proposals, gt])
        idx = [int((candidates == b).all(dim=1).nonzero()[0]) for b in out["boxes"][0]]
        assert sorted(zip(idx, out["labels"][0].tolist())) == list(enumerate(labels))
        assert [int(g) for g in out["is_gt"][0]] == [int(i == 3) for i in idx]


def test_stage_loss_is_weighted() -> None:
    torch.manual_seed(0)
    logits, deltas = torch.randn(6, 3), torch.randn(6, 4)
    labels, targets = [torch.tensor([0, 1, 2, 0, 1, 0])], [torch.randn(6, 4)]
    full = _stage(0.5).loss(logits, deltas, labels, targets)
    half = CascadeStage(nn.Flatten(), AgnosticBoxPredictor(4, 2), 0.5, (0.1, 0.1, 0.2, 0.2), 0.5).loss(
        logits, deltas, labels, targets
    )
    assert full[0] == pytest.approx(F.cross_entropy(logits, labels[0]).item())
    pos = labels[0] > 0
    assert full[1] == pytest.approx(F.smooth_l1_loss(deltas[pos], targets[0][pos], reduction="sum").item() / 6)
    assert half[0] == pytest.approx(0.5 * full[0].item()) and half[1] == pytest.approx(0.5 * full[1].item())


def test_inference_scores_average_the_stages_and_boxes_come_from_the_last() -> None:
    torch.manual_seed(0)
    pool = MultiScaleRoIAlign(["p2"], 2, 2)
    stds = ((0.1, 0.1, 0.2, 0.2), (0.05, 0.05, 0.1, 0.1), (0.033, 0.033, 0.067, 0.067))
    stages = [
        CascadeStage(nn.Flatten(), AgnosticBoxPredictor(8 * 4, 3), iou, std, 1.0)
        for iou, std in zip((0.5, 0.6, 0.7), stds)
    ]
    for s in stages:
        nn.init.normal_(s.predictor.cls_score.weight, std=0.5)
        nn.init.normal_(s.predictor.bbox_pred.weight, std=0.05)
    heads = CascadeRoIHeads(pool, stages, score_thresh=0.0, nms_thresh=1.0, detections_per_img=1000).eval()
    features = OrderedDict(p2=torch.randn(1, 8, 16, 16))
    proposals = [torch.tensor([[4.0, 4.0, 30.0, 30.0], [20.0, 8.0, 60.0, 40.0], [30.0, 30.0, 62.0, 62.0]])]
    shapes = [(64, 64)]
    result, _ = heads(features, proposals, shapes)

    boxes, probs = proposals, []
    with torch.no_grad():
        for i, stage in enumerate(stages):
            logits, deltas = stage(pool(features, boxes, shapes))
            probs.append(F.softmax(logits, -1))
            last = stage.refine(deltas, boxes, shapes)
            boxes = last if i < 2 else boxes
    mean = torch.stack(probs).mean(0)[:, 1:]
    expected = sorted(
        (round(float(mean[r, c]), 5), c + 1, tuple(round(v, 3) for v in last[0][r].tolist()))
        for r in range(3)
        for c in range(3)
    )
    got = sorted(
        (round(float(s), 5), int(lab), tuple(round(v, 3) for v in b.tolist()))
        for s, lab, b in zip(result[0]["scores"], result[0]["labels"], result[0]["boxes"])
    )
    assert got == expected


@pytest.mark.parametrize("kind", ["cascade", "mask_rcnn"])
def test_box_only_variants_have_no_mask_branch(kind: str) -> None:
    torch.manual_seed(0)
    model = build_detector(ModelConfig(kind=kind, **SMALL), 2, masks=False)
    assert not has_masks(model)
    target = {"boxes": torch.tensor([[10.0, 12.0, 50.0, 40.0]]), "labels": torch.tensor([1])}
    losses = model.train()([torch.rand(3, 64, 80)], [target])
    assert "loss_mask" not in losses and all(torch.isfinite(v) for v in losses.values())
    out = model.eval()([torch.rand(3, 64, 80)])[0]
    assert "masks" not in out and out["boxes"].shape[1] == 4
