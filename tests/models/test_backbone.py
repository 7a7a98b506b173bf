"""ResNet trunk + FPN: level sets, shapes, strides, odd input sizes, freezing, checkpointing, torchvision fit."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from segloc.models import BackboneWithFPN, build_backbone, build_resnet


def expected_size(size: int, stride: int) -> int:
    """Spatial size of a ResNet stage / pyramid level: conv1 and maxpool, then stride-2 stages."""
    for _ in range(int(math.log2(stride))):
        size = (size + 1) // 2
    return size


@pytest.mark.parametrize(
    "levels",
    [("p2", "p3", "p4", "p5"), ("p2", "p3", "p4", "p5", "p6"), ("p3", "p4", "p5", "p6"), ("p4", "p5"), ("p6",)],
)
@pytest.mark.parametrize("hw", [(96, 128), (97, 131)])
def test_fpn_levels_shapes_and_strides(levels: tuple[str, ...], hw: tuple[int, int]) -> None:
    torch.manual_seed(0)
    model = build_backbone("resnet18", fpn_levels=levels).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, *hw))
    assert list(out) == list(levels)
    assert model.out_channels == 256
    for level, feat in out.items():
        stride = int(level[1:])
        assert model.strides[level] == 2**stride
        assert feat.shape == (2, 256, expected_size(hw[0], 2**stride), expected_size(hw[1], 2**stride))


def test_extra_p6_flag_adds_p6_and_contradiction_raises() -> None:
    model = build_backbone("resnet18", extra_p6=True)
    assert model.levels == ("p2", "p3", "p4", "p5", "p6")
    with pytest.raises(ValueError, match="extra_p6"):
        build_backbone("resnet18", fpn_levels=("p5", "p6"), extra_p6=False)


def test_p6_is_strided_max_pool_of_p5() -> None:
    model = build_backbone("resnet18", fpn_levels=("p5", "p6")).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 97, 131))
    assert torch.equal(out["p6"], out["p5"][:, :, ::2, ::2])


def test_submodule_names_and_no_classifier() -> None:
    model = build_backbone("resnet18", attention=True)
    prefixes = {k.split(".")[0] for k in model.state_dict()}
    assert prefixes == {"body", "fpn", "attention"}
    assert "body.conv1.weight" in model.state_dict() and "body.layer4.1.conv2.weight" in model.state_dict()
    assert not any(k.startswith(("body.fc", "body.avgpool")) for k in model.state_dict())
    assert "attention" not in {k.split(".")[0] for k in build_backbone("resnet18").state_dict()}


def test_fpn_norm_none_uses_plain_convs_with_bias() -> None:
    plain = build_backbone("resnet18", fpn_norm=None)
    normed = build_backbone("resnet18")
    assert plain.fpn.lateral[0].conv.bias is not None and isinstance(plain.fpn.lateral[0].norm, nn.Identity)
    assert normed.fpn.lateral[0].conv.bias is None and isinstance(normed.fpn.lateral[0].norm, nn.BatchNorm2d)


@pytest.mark.parametrize(
    "trainable, frozen",
    [(5, ()), (3, ("conv1", "bn1", "layer1")), (0, ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4"))],
)
def test_trainable_layers_freeze_params_and_norm_stats(trainable: int, frozen: tuple[str, ...]) -> None:
    model = build_backbone("resnet18", trainable_layers=trainable).train()
    for name in ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4"):
        module = getattr(model.body, name)
        assert all(p.requires_grad != (name in frozen) for p in module.parameters()), name
        assert module.training != (name in frozen), name
    assert all(p.requires_grad for p in model.fpn.parameters())


def test_build_resnet_archs_and_unknown_arch() -> None:
    assert build_resnet("resnet34", norm="gn").fc.in_features == 512
    assert isinstance(build_resnet("resnet18", norm="gn").bn1, nn.GroupNorm)
    with pytest.raises(ValueError, match="resnet7"):
        build_resnet("resnet7")


def test_checkpointing_same_output_grads_and_running_stats() -> None:
    torch.manual_seed(0)
    plain = build_backbone("resnet18").train()
    ckpt = build_backbone("resnet18", checkpointing=True).train()
    ckpt.load_state_dict(plain.state_dict())
    images = torch.randn(2, 3, 67, 75)
    outputs = []
    for model in (plain, ckpt):
        out = model(images)
        sum((v * torch.linspace(-1, 1, v.numel()).view_as(v)).sum() for v in out.values()).backward()
        outputs.append(out)
    for level in outputs[0]:
        torch.testing.assert_close(outputs[0][level], outputs[1][level])
    grads = {n: p.grad for n, p in plain.named_parameters()}
    for name, param in ckpt.named_parameters():
        torch.testing.assert_close(param.grad, grads[name], msg=name)
    buffers = dict(plain.named_buffers())
    for name, buf in ckpt.named_buffers():
        assert torch.equal(buf, buffers[name]), name


def test_plugs_into_torchvision_mask_rcnn() -> None:
    from torchvision.models.detection import MaskRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.ops import MultiScaleRoIAlign

    torch.manual_seed(0)
    backbone: BackboneWithFPN = build_backbone("resnet18", fpn_levels=("p2", "p3", "p4", "p5", "p6"), attention=True)
    names = [lv for lv in backbone.levels if lv != "p6"]
    model = MaskRCNN(
        backbone,
        num_classes=3,
        min_size=96,
        max_size=131,
        rpn_anchor_generator=AnchorGenerator(((16,), (32,), (64,), (128,), (256,)), ((0.5, 1.0, 2.0),) * 5),
        box_roi_pool=MultiScaleRoIAlign(names, 7, 2),
        mask_roi_pool=MultiScaleRoIAlign(names, 14, 2),
    ).train()
    masks = torch.zeros(1, 97, 131, dtype=torch.uint8)
    masks[0, 20:60, 30:90] = 1
    target = {"boxes": torch.tensor([[30.0, 20.0, 90.0, 60.0]]), "labels": torch.tensor([1]), "masks": masks}
    losses = model([torch.rand(3, 97, 131), torch.rand(3, 97, 131)], [target, target])
    assert set(losses) >= {"loss_classifier", "loss_box_reg", "loss_mask", "loss_objectness"}
    assert all(torch.isfinite(v) for v in losses.values())
