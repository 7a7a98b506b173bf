"""The box head: torchvision's TwoMLPHead's parameters and outputs, in either memory layout."""

from __future__ import annotations

import torch
from torchvision.models.detection.faster_rcnn import TwoMLPHead

from segloc.detection import ModelConfig, build_detector
from segloc.detection.box_head import BoxHead


def test_box_head_matches_torchvision_in_both_layouts() -> None:
    torch.manual_seed(0)
    ours, theirs = BoxHead(16 * 7 * 7, 32), TwoMLPHead(16 * 7 * 7, 32)
    theirs.load_state_dict(ours.state_dict())
    features = torch.randn(10, 16, 7, 7, requires_grad=True)
    for x in (features, features.contiguous(memory_format=torch.channels_last)):
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-5)
    ours(features.contiguous(memory_format=torch.channels_last)).sum().backward()
    assert ours.fc6.weight.grad is not None and features.grad is not None


def test_detectors_are_built_with_it() -> None:
    cfg = ModelConfig(arch="resnet18", attention=False, image_size=128, box_head_dim=64)
    for kind in ("cascade", "mask_rcnn"):
        model = build_detector(cfg.model_copy(update={"kind": kind}), num_classes=2, masks=False)
        heads = [s.box_head for s in model.roi_heads.stages] if kind == "cascade" else [model.roi_heads.box_head]
        assert all(isinstance(h, BoxHead) for h in heads)
