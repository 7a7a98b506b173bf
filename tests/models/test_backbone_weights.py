"""Weights: segloc export round trip, torchvision layout, wrapped torch files, loud failures."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision
from safetensors.torch import save_file

from segloc.models import (
    WeightsError,
    build_backbone,
    build_resnet,
    load_backbone_weights,
    read_backbone_config,
    read_metadata,
    save_backbone,
    torchvision_layout,
)
from segloc.models.backbone import BackboneWithFPN


def trained_like(model: BackboneWithFPN, seed: int = 1) -> BackboneWithFPN:
    """Give every parameter and buffer a distinct non-default value, so equality means real loading."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
            else:
                tensor.fill_(int(torch.randint(1, 100, (1,), generator=gen)))
    return model


def test_export_then_load_is_key_for_key_identical(tmp_path: Path) -> None:
    source = trained_like(build_backbone("resnet18", fpn_levels=("p2", "p3", "p4", "p5", "p6"), attention=True))
    path = save_backbone(source, tmp_path / "ssl.safetensors", meta={"method": "segloc", "epochs": 3})
    meta = read_metadata(path)
    assert meta["format"] == "segloc" and meta["arch"] == "resnet18" and meta["attention"] == "true"
    assert meta["fpn_levels"] == "p2,p3,p4,p5,p6" and meta["norm"] == "bn" and meta["epochs"] == "3"
    config = read_backbone_config(path)
    fresh = build_backbone(**config)
    report = load_backbone_weights(torch.nn.DataParallel(fresh), path)
    assert report.trunk_fraction == 1.0 and not (report.missing or report.unexpected or report.shape_mismatch)
    expected = source.state_dict()
    assert list(fresh.state_dict()) == list(expected)
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_torchvision_layout_loads_strict_into_plain_resnet(tmp_path: Path) -> None:
    source = trained_like(build_backbone("resnet18"))
    plain = torchvision.models.resnet18(weights=None)
    tv_state = torchvision_layout(source.state_dict())
    assert "conv1.weight" in tv_state and "layer1.0.conv1.weight" in tv_state
    assert set(plain.state_dict()) - set(tv_state) == {"fc.weight", "fc.bias"}
    plain.load_state_dict({**tv_state, "fc.weight": plain.fc.weight, "fc.bias": plain.fc.bias}, strict=True)
    torch.testing.assert_close(plain.layer3[1].bn2.running_var, source.body.layer3[1].bn2.running_var)
    path = tmp_path / "tv.safetensors"
    save_file(tv_state, str(path))
    back = build_backbone("resnet18")
    report = load_backbone_weights(back, path)
    assert report.trunk_fraction == 1.0
    assert all(k.startswith("fpn.") for k in report.missing) and report.missing
    assert torch.equal(back.body.layer4[0].downsample[0].weight, source.body.layer4[0].downsample[0].weight)


@pytest.mark.parametrize("wrap", ["plain", "state_dict", "model_module", "backbone_prefix"])
def test_torchvision_pth_files_load_into_trunk(tmp_path: Path, wrap: str) -> None:
    torch.manual_seed(0)
    resnet = build_resnet("resnet18")
    state = resnet.state_dict()
    payload = {
        "plain": state,
        "state_dict": {"state_dict": state, "epoch": 3},
        "model_module": {"model": {f"module.{k}": v for k, v in state.items()}},
        "backbone_prefix": {"state_dict": {f"backbone.{k}": v for k, v in state.items()}},
    }[wrap]
    path = tmp_path / "resnet18.pth"
    torch.save(payload, path)
    model = build_backbone("resnet18", weights=path)
    assert torch.equal(model.body.conv1.weight, resnet.conv1.weight)
    assert torch.equal(model.body.layer2[0].bn1.running_mean, resnet.layer2[0].bn1.running_mean)
    loaded = build_resnet("resnet18", weights=path)
    assert torch.equal(loaded.layer4[1].conv2.weight, resnet.layer4[1].conv2.weight)


def test_frozenbn_model_takes_bn_file(tmp_path: Path) -> None:
    source = trained_like(build_backbone("resnet18"))
    path = save_backbone(source, tmp_path / "bn.safetensors", meta={})
    frozen = build_backbone("resnet18", norm="frozenbn")
    report = load_backbone_weights(frozen, path)
    assert report.trunk_fraction == 1.0 and not report.unexpected
    assert torch.equal(frozen.body.bn1.weight, source.body.bn1.weight)


def test_nearly_empty_file_raises_naming_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.safetensors"
    save_file({"body.conv1.weight": torch.zeros(64, 3, 7, 7)}, str(path))
    model = build_backbone("resnet18")
    before = model.body.conv1.weight.clone()
    with pytest.raises(WeightsError, match="tiny.safetensors.*trunk"):
        load_backbone_weights(model, path)
    assert torch.equal(model.body.conv1.weight, before)


def test_wrong_arch_fails_loudly_unless_lenient(tmp_path: Path) -> None:
    path = save_backbone(build_backbone("resnet34"), tmp_path / "r34.safetensors", meta={})
    model = build_backbone("resnet18")
    with pytest.raises(WeightsError, match="r34.safetensors: weights are for resnet34, the network is resnet18"):
        load_backbone_weights(model, path)
    tv_path = tmp_path / "r34.pth"
    torch.save(build_resnet("resnet34").state_dict(), tv_path)
    with pytest.raises(WeightsError, match="r34.pth.*lacks"):
        load_backbone_weights(model, tv_path)
    report = load_backbone_weights(model, tv_path, strict_trunk=False)
    assert "body.layer1.2.conv1.weight" in report.unexpected
    assert "body.layer4.0.conv1.weight" in report.loaded


def test_shape_mismatch_reported_not_loaded(tmp_path: Path) -> None:
    source = trained_like(build_backbone("resnet18"))
    state = dict(source.state_dict())
    state["fpn.output.0.conv.weight"] = torch.ones(256, 256, 1, 1)
    path = tmp_path / "bad.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    model = build_backbone("resnet18")
    before = model.fpn.output[0].conv.weight.clone()
    report = load_backbone_weights(model, path)
    assert len(report.shape_mismatch) == 1 and report.shape_mismatch[0].startswith("fpn.output.0.conv.weight")
    assert "fpn.output.0.conv.weight" not in report.missing + report.loaded
    assert torch.equal(model.fpn.output[0].conv.weight, before)
    assert torch.equal(model.fpn.output[1].conv.weight, source.fpn.output[1].conv.weight)
    assert "shape_mismatch (1)" in report.summary()


def test_missing_and_corrupt_files_raise(tmp_path: Path) -> None:
    model = build_backbone("resnet18")
    with pytest.raises(WeightsError, match="nope.pth.*not found"):
        load_backbone_weights(model, tmp_path / "nope.pth")
    for name in ("junk.pth", "junk.safetensors"):
        (tmp_path / name).write_bytes(b"\x00garbage" * 10)
        with pytest.raises(WeightsError, match=name):
            load_backbone_weights(model, tmp_path / name)


def test_moco_style_checkpoint_loads_query_encoder(tmp_path: Path) -> None:
    query, key = build_resnet("resnet18"), build_resnet("resnet18")
    state = {f"module.encoder_q.{k}": v for k, v in query.state_dict().items()}
    state |= {f"module.encoder_k.{k}": v for k, v in key.state_dict().items()}
    state["module.queue"] = torch.randn(128, 16)
    path = tmp_path / "moco_v2.pth.tar"
    torch.save({"epoch": 200, "arch": "resnet18", "state_dict": state}, path)
    model = build_backbone("resnet18")
    report = load_backbone_weights(model, path)
    assert report.trunk_fraction == 1.0
    assert "queue" in report.unexpected and "encoder_k.conv1.weight" in report.unexpected
    assert torch.equal(model.body.layer3[0].conv1.weight, query.layer3[0].conv1.weight)
