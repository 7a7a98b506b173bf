"""One backbone spec: pretraining and fine-tuning configs share its keys, disagreements are named, and
CHR's old ``model.backbone`` key fails naming ``model.arch``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from segloc.classification.config import ChrConfig
from segloc.detection.config import ModelConfig
from segloc.models.spec import TRANSFERRED, BackboneSpec
from segloc.pretrain.config import BackboneConfig


def test_pretraining_and_fine_tuning_share_the_spec():
    shared = set(BackboneSpec.model_fields)
    assert shared <= set(BackboneConfig.model_fields) and shared <= set(ModelConfig.model_fields)
    assert set(TRANSFERRED) <= shared
    assert (ModelConfig().arch, ModelConfig().attention) == ("resnet101", True)
    assert (BackboneConfig().arch, BackboneConfig().attention) == ("resnet50", False)


def test_differences_name_each_transferred_key():
    pretrained = BackboneConfig(arch="resnet18", fpn_channels=64)
    detector = ModelConfig(arch="resnet18", fpn_channels=64, attention=False)
    assert pretrained.differences(detector) == []
    detector = ModelConfig(arch="resnet34", fpn_channels=128, attention=False, trainable_layers=3)
    assert pretrained.differences(detector) == ["arch: 'resnet18' vs 'resnet34'", "fpn_channels: 64 vs 128"]


def test_chr_old_backbone_key_names_the_new_one():
    assert ChrConfig.model_validate({"model": {"arch": "resnet18"}}).model.arch == "resnet18"
    with pytest.raises(ValidationError, match="model.backbone is now model.arch"):
        ChrConfig.model_validate({"model": {"backbone": "resnet18"}})
