"""Norm factories: each kind builds and normalises, frozen BN has nothing to train, SyncBN conversion."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.ops import FrozenBatchNorm2d

from segloc.models import build_backbone, convert_to_syncbn, make_norm


@pytest.mark.parametrize(
    "kind, cls",
    [("bn", nn.BatchNorm2d), ("syncbn", nn.SyncBatchNorm), ("frozenbn", FrozenBatchNorm2d), ("gn", nn.GroupNorm)],
)
def test_each_kind_builds_and_runs(kind: str, cls: type) -> None:
    layer = make_norm(kind)(64)
    assert isinstance(layer, cls)
    x = torch.randn(4, 64, 5, 5) * 3 + 2
    y = layer.train()(x) if kind != "frozenbn" else layer(x)
    assert y.shape == x.shape
    if kind in ("bn", "syncbn"):
        torch.testing.assert_close(y.mean(dim=(0, 2, 3)), torch.zeros(64), atol=1e-5, rtol=0)
    if kind == "gn":
        assert layer.num_groups == 32
        torch.testing.assert_close(y.view(4, 32, -1).mean(-1), torch.zeros(4, 32), atol=1e-5, rtol=0)
    if kind == "frozenbn":
        torch.testing.assert_close(y, x / torch.sqrt(torch.tensor(1.0 + layer.eps)))


def test_unknown_kind_and_bad_gn_channels() -> None:
    with pytest.raises(ValueError, match="layernorm"):
        make_norm("layernorm")
    with pytest.raises(ValueError, match="divisible by 32"):
        make_norm("gn")(48)


def test_frozenbn_backbone_has_no_trainable_norm_params() -> None:
    model = build_backbone("resnet18", norm="frozenbn")
    norms = [m for m in model.body.modules() if isinstance(m, FrozenBatchNorm2d)]
    assert len(norms) == 1 + 4 * 2 * 2 + 3
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.body.modules())
    trainable = {n for n, p in model.body.named_parameters() if p.requires_grad}
    assert trainable and not any("bn" in n or "downsample.1" in n for n in trainable)


def test_convert_to_syncbn_replaces_every_batchnorm_and_keeps_values() -> None:
    model = build_backbone("resnet18", attention=True)
    model.body.bn1.running_mean.fill_(0.5)
    bn_count = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    converted = convert_to_syncbn(model)
    assert sum(isinstance(m, nn.SyncBatchNorm) for m in converted.modules()) == bn_count
    assert not any(type(m) is nn.BatchNorm2d for m in converted.modules())
    assert torch.all(converted.body.bn1.running_mean == 0.5)
    with torch.no_grad():
        out = converted.eval()(torch.randn(1, 3, 64, 64))
    assert out["p2"].shape == (1, 256, 16, 16)
