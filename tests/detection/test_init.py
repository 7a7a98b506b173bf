"""Backbone initialisation: a segloc export loads key for key, torchvision files load the trunk,
unrelated files fail loudly naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torchvision.models import resnet18

from segloc.detection import ModelConfig, build_detector, finetune, initialize_backbone
from segloc.detection.builders import PYRAMID
from segloc.detection.init import init_name
from segloc.models import WeightsError, build_backbone, save_backbone

CFG = ModelConfig(arch="resnet18", attention=True, fpn_channels=64, image_size=96, box_head_dim=64, mask_head_dim=32)


def test_segloc_export_loads_key_for_key(tmp_path: Path) -> None:
    torch.manual_seed(1)
    pretrained = build_backbone("resnet18", fpn_levels=PYRAMID, attention=True, out_channels=64)
    with torch.no_grad():
        for p in pretrained.parameters():
            p.add_(torch.randn_like(p))
    path = save_backbone(pretrained, tmp_path / "segloc.safetensors", meta={"method": "segloc"})
    detector = build_detector(CFG, 3, masks=True)
    result = initialize_backbone(detector.backbone, str(path))
    assert result.name == "segloc" and result.report is not None
    assert result.report.missing == [] and result.report.unexpected == [] and result.report.shape_mismatch == []
    target = detector.backbone.state_dict()
    source = pretrained.state_dict()
    assert set(target) == set(source)
    for key, value in source.items():
        assert torch.equal(target[key], value), key
    assert detector.backbone.levels == PYRAMID


def test_torchvision_resnet_file_loads_the_trunk(tmp_path: Path) -> None:
    torch.manual_seed(2)
    net = resnet18(weights=None)
    path = tmp_path / "resnet18-imagenet.pth"
    torch.save(net.state_dict(), path)
    detector = build_detector(CFG, 3, masks=True)
    result = initialize_backbone(detector.backbone, str(path))
    assert result.name == "supervised" and result.report.trunk_fraction == 1.0
    assert all(k.startswith(("fpn.", "attention.")) for k in result.report.missing)
    assert torch.equal(detector.backbone.body.layer3[1].conv2.weight, net.layer3[1].conv2.weight)


def test_unrelated_file_fails_loudly(tmp_path: Path, shapes_root: Path, make_config) -> None:
    path = tmp_path / "other.pth"
    torch.save({"encoder.weight": torch.zeros(3, 3), "head.bias": torch.zeros(3)}, path)
    with pytest.raises(WeightsError, match="other.pth: only 0.0% of the trunk"):
        finetune(make_config(shapes_root, init=str(path)), tmp_path / "run", progress=False)
    detector = build_detector(CFG, 3, masks=True)
    before = {k: v.clone() for k, v in detector.backbone.state_dict().items()}
    with pytest.raises(WeightsError, match="other.pth.*0.0% of the trunk"):
        initialize_backbone(detector.backbone, str(path))
    assert all(torch.equal(before[k], v) for k, v in detector.backbone.state_dict().items())
    with pytest.raises(WeightsError, match="missing.pth: init weights file not found"):
        initialize_backbone(detector.backbone, str(tmp_path / "missing.pth"))


def test_random_init_and_names(tmp_path: Path) -> None:
    detector = build_detector(CFG, 3, masks=False)
    assert initialize_backbone(detector.backbone, "random").name == "random"
    path = save_backbone(build_backbone("resnet18"), tmp_path / "x.safetensors", meta={"method": "insloc"})
    assert init_name(path) == "insloc"
    assert init_name(save_backbone(build_backbone("resnet18"), tmp_path / "y.safetensors")) == "ssl"
