"""The narrow RPN head: same outputs per level and anchor as torchvision's, a fraction of the cost."""
from __future__ import annotations

import torch
from torchvision.models.detection.rpn import RPNHead as TorchvisionRPNHead

from segloc.detection import ModelConfig, build_detector
from segloc.detection.rpn import RPNHead


def test_narrow_head_has_torchvision_output_shapes() -> None:
    features = [torch.randn(2, 32, s, s) for s in (16, 8, 4)]
    ours, theirs = RPNHead(32, 3, channels=8), TorchvisionRPNHead(32, 3)
    for a, b in zip(ours(features), theirs(features)):
        assert [t.shape for t in a] == [t.shape for t in b]
    assert sum(p.numel() for p in ours.parameters()) < 0.3 * sum(p.numel() for p in theirs.parameters())


def test_detector_with_a_narrow_rpn_trains_and_predicts() -> None:
    cfg = ModelConfig(arch="resnet18", attention=False, image_size=128, rpn_channels=16, roi_batch_per_image=32,
                      box_head_dim=64, rpn_post_nms_train=100, rpn_post_nms_test=50)
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
