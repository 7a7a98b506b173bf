"""Weights files with poisoned values, another trunk shape, or tampered metadata fail loudly."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from segloc.engine import NonFiniteError
from segloc.models import WeightsError, build_backbone, load_backbone_weights, read_backbone_config, save_backbone


def _poisoned(tmp_path: Path, key: str, value: float) -> Path:
    state = {k: v.clone().contiguous() for k, v in build_backbone("resnet18").state_dict().items()}
    state[key].view(-1)[0] = value
    path = tmp_path / "poisoned.safetensors"
    save_file(state, str(path))
    return path


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e30])
def test_poisoned_values_refused_before_loading(tmp_path: Path, value: float) -> None:
    path = _poisoned(tmp_path, "body.layer2.0.bn1.running_var", value)
    model = build_backbone("resnet18")
    before = model.body.layer2[0].bn1.running_var.clone()
    with pytest.raises(WeightsError, match=r"poisoned\.safetensors.*body\.layer2\.0\.bn1\.running_var"):
        load_backbone_weights(model, path)
    assert torch.equal(model.body.layer2[0].bn1.running_var, before)


def test_trunk_shape_mismatch_is_an_error_elsewhere_a_warning(tmp_path: Path, caplog) -> None:
    state = {k: v.contiguous() for k, v in build_backbone("resnet18").state_dict().items()}
    state["body.layer1.0.conv1.weight"] = torch.zeros(64, 64, 1, 1)
    save_file(state, str(tmp_path / "trunk.safetensors"))
    with pytest.raises(WeightsError, match="trunk tensor"):
        load_backbone_weights(build_backbone("resnet18"), tmp_path / "trunk.safetensors")
    state = {k: v.contiguous() for k, v in build_backbone("resnet18").state_dict().items()}
    state["fpn.output.0.conv.weight"] = torch.ones(256, 256, 1, 1)
    save_file(state, str(tmp_path / "fpn.safetensors"))
    with caplog.at_level(logging.WARNING, logger="segloc"):
        load_backbone_weights(build_backbone("resnet18"), tmp_path / "fpn.safetensors")
    assert "fpn.output.0.conv.weight" in caplog.text and "WARNING" in caplog.text


@pytest.mark.parametrize("config", ['{"arch": "resnet18"', '["resnet18"]', '{"arch": 5}',
                                    '{"arch": "resnet18", "rm": 1}'])
def test_tampered_metadata_is_a_weights_error(tmp_path: Path, config: str) -> None:
    path = save_backbone(build_backbone("resnet18"), tmp_path / "ok.safetensors")
    state = {k: v.contiguous() for k, v in build_backbone("resnet18").state_dict().items()}
    save_file(state, str(tmp_path / "bad.safetensors"), metadata={"format": "segloc", "config": config})
    assert read_backbone_config(path)["arch"] == "resnet18"
    with pytest.raises(WeightsError, match="bad.safetensors.*config"):
        read_backbone_config(tmp_path / "bad.safetensors")
    assert json.loads(json.dumps(read_backbone_config(path)))  # a clean export still reads


def test_save_refuses_non_finite_weights(tmp_path: Path) -> None:
    model = build_backbone("resnet18")
    with torch.no_grad():
        model.body.conv1.weight[0, 0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteError, match=r"body\.conv1\.weight"):
        save_backbone(model, tmp_path / "nan.safetensors")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("config", ['{"arch": "resnet999"}', '{"arch": "resnet18", "out_channels": "a"}'])
def test_tampered_config_values_are_one_line_in_probe(tmp_path: Path, config: str) -> None:
    from segloc.cli.pretrain import _probe_backbone

    state = {k: v.contiguous() for k, v in build_backbone("resnet18").state_dict().items()}
    save_file(state, str(tmp_path / "bad.safetensors"), metadata={"format": "segloc", "config": config})
    with pytest.raises(WeightsError, match="bad.safetensors: metadata 'config' does not describe a backbone"):
        _probe_backbone(str(tmp_path / "bad.safetensors"), "resnet18")
    with pytest.raises(WeightsError, match="--arch"):
        _probe_backbone("random", "resnet7")
