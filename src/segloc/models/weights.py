"""Save and load backbone weights: segloc safetensors exports and torchvision ResNet files.

A segloc export holds the network's own keys (``body.*``, ``fpn.*``, ``attention.*``) plus
metadata, so pretraining output loads into the detector key for key. Torchvision-layout files
(``conv1.weight``, ``layer1.0.conv1.weight``, ...) load into the trunk. Every load is checked:
NaN, infinite or absurdly large values are errors, so are trunk tensors of another shape and too
little coverage of the trunk; other shape mismatches are skipped with a warning.
"""
from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save
from torch import Tensor, nn

from segloc.engine.atomic import atomic_write_bytes
from segloc.engine.checkpoint import check_finite, invalid_tensors
from segloc.errors import SeglocError, log

FORMAT = "segloc"
TRUNK_PREFIX = "body."
WRAPPER_KEYS = ("state_dict", "model")
STRIP_PREFIXES = ("module.", "backbone.", "encoder_q.")
OPTIONAL_SUFFIX = "num_batches_tracked"
RESNET_PARTS = ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4")
MAX_ABS_WEIGHT = 1e6  # far above any trained weight or BN statistic; larger values are corruption


class WeightsError(SeglocError):
    """A weights file is missing, unreadable, or does not fit the network."""


@dataclass
class LoadReport:
    """What a weights load did: keys loaded, missing from the file, unknown to the model, mis-shaped."""

    path: str
    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    shape_mismatch: list[str] = field(default_factory=list)
    trunk_fraction: float = 0.0

    def summary(self) -> str:
        """One line per category, with the first few keys of each non-empty problem list."""
        lines = [
            f"{self.path}: loaded {len(self.loaded)} tensors, "
            f"{self.trunk_fraction:.1%} of the trunk's parameters"
        ]
        for name in ("missing", "unexpected", "shape_mismatch"):
            keys = getattr(self, name)
            if keys:
                more = f" (+{len(keys) - 5} more)" if len(keys) > 5 else ""
                lines.append(f"  {name} ({len(keys)}): {', '.join(keys[:5])}{more}")
        return "\n".join(lines)


def unwrap(model: nn.Module) -> nn.Module:
    """The bare network inside DataParallel / DistributedDataParallel / torch.compile wrappers."""
    while True:
        if isinstance(model, nn.DataParallel | nn.parallel.DistributedDataParallel):
            model = model.module
        elif isinstance(getattr(model, "_orig_mod", None), nn.Module):
            model = model._orig_mod
        else:
            return model


def _metadata_strings(config: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, str]:
    out = {"format": FORMAT, "config": json.dumps(dict(config))}
    readable = {
        "arch": config.get("arch"),
        "norm": config.get("norm"),
        "fpn_levels": ",".join(config.get("fpn_levels", [])),
        "attention": str(bool(config.get("attention"))).lower(),
    }
    for key, value in {**readable, **meta}.items():
        out[key] = value if isinstance(value, str) else json.dumps(value)
    return out


def save_backbone(model: nn.Module, path: str | Path, meta: Mapping[str, Any] | None = None) -> Path:
    """Write the model's full state (params and buffers, own keys) as safetensors with metadata.

    Metadata: format="segloc", arch, norm, fpn_levels, attention, the full build config as JSON
    (``config``), and the caller's ``meta`` (non-string values JSON-encoded).
    """
    model = unwrap(model)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    check_finite(state, path)
    metadata = _metadata_strings(getattr(model, "config", {}), meta or {})
    return atomic_write_bytes(save(state, metadata=metadata), path)


def read_metadata(path: str | Path) -> dict[str, str]:
    """Metadata strings of a safetensors file ({} for a file without any)."""
    path = _existing(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except Exception as err:
        raise WeightsError(f"{path}: not a readable safetensors file ({err})") from err


def read_backbone_config(path: str | Path) -> dict[str, Any]:
    """Build config (kwargs of ``build_backbone``) recorded in a segloc export, checked by name and type."""
    from segloc.models.backbone import build_backbone

    meta = read_metadata(path)
    if meta.get("format") != FORMAT or "config" not in meta:
        raise WeightsError(f"{path}: not a segloc backbone export (no format=segloc metadata)")
    try:
        config = json.loads(meta["config"])
    except json.JSONDecodeError as err:
        raise WeightsError(f"{path}: metadata 'config' is not valid JSON ({err})") from err
    known = set(inspect.signature(build_backbone).parameters) - {"weights"}
    if not isinstance(config, dict) or not set(config) <= known:
        extra = sorted(set(config) - known) if isinstance(config, dict) else type(config).__name__
        raise WeightsError(f"{path}: metadata 'config' is not a backbone config (unexpected: {extra})")
    if not isinstance(config.get("arch", ""), str):
        raise WeightsError(f"{path}: metadata 'config' has a non-text arch {config['arch']!r}")
    return config


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file not found")
    return path


def read_state(path: str | Path) -> dict[str, Tensor]:
    """Tensors of a weights file, unwrapped from {"state_dict"|"model": ...}, wrapper prefixes stripped.

    Reads safetensors, or torch files with ``torch.load(weights_only=True)``.
    """
    path = _existing(path)
    try:
        if path.suffix == ".safetensors":
            raw: Any = load_file(str(path))
        else:
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise WeightsError(f"{path}: cannot read weights ({type(err).__name__}: {err}); corrupt file?") from err
    while isinstance(raw, Mapping):
        wrapper = next((k for k in WRAPPER_KEYS if isinstance(raw.get(k), Mapping)), None)
        if wrapper is None:
            break
        raw = raw[wrapper]
    if not isinstance(raw, Mapping):
        raise WeightsError(f"{path}: expected a state dict, found {type(raw).__name__}")
    state = {_strip(k): v for k, v in raw.items() if isinstance(v, Tensor)}
    if not state:
        raise WeightsError(f"{path}: no tensors in file")
    return state


def _strip(key: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        for prefix in STRIP_PREFIXES:
            if key.startswith(prefix):
                key, stripped = key[len(prefix) :], True
    return key


def torchvision_layout(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Trunk tensors of a segloc state in torchvision ResNet names (``body.layer1.0...`` -> ``layer1.0...``)."""
    return {k[len(TRUNK_PREFIX) :]: v for k, v in state.items() if k.startswith(TRUNK_PREFIX)}


def segloc_layout(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Torchvision ResNet tensors renamed into the segloc trunk (``body.*``); other keys kept as they are."""
    return {(TRUNK_PREFIX + k if _is_resnet_key(k) else k): v for k, v in state.items()}


def _is_resnet_key(key: str) -> bool:
    return key.split(".", 1)[0] in RESNET_PARTS


def _check_arch(path: str | Path, model_arch: str | None) -> None:
    """A segloc export names its arch: refuse a different one rather than half-load it."""
    if model_arch is None or Path(path).suffix != ".safetensors":
        return
    file_arch = read_metadata(path).get("arch")
    if file_arch and file_arch != model_arch:
        raise WeightsError(f"{path}: weights are for {file_arch}, the network is {model_arch}")


def _is_classifier(key: str) -> bool:
    return key.startswith("fc.")


def _is_segloc(keys: Any) -> bool:
    return any(k.startswith(TRUNK_PREFIX) for k in keys)


def load_backbone_weights(
    model: nn.Module, path: str | Path, min_fraction: float = 0.5, strict_trunk: bool = True
) -> LoadReport:
    """Load a segloc export or torchvision ResNet file into a ``BackboneWithFPN`` or plain ResNet.

    Tensors whose shape differs are skipped, reported and warned about. Raises ``WeightsError``
    naming the file, before touching the model, when it is missing or corrupt, when a tensor to
    load holds NaN, inf or values beyond ``MAX_ABS_WEIGHT``, when less than ``min_fraction`` of
    the trunk (by element count) would be loaded, or (``strict_trunk``) when the file has trunk
    layers the network lacks (e.g. a resnet34 file for a resnet18, whose shared blocks all fit) or
    trunk tensors of another shape.
    """
    model = unwrap(model)
    state = read_state(path)
    _check_arch(path, getattr(model, "config", {}).get("arch"))
    target = model.state_dict()
    segloc_model = _is_segloc(target)
    if segloc_model and not _is_segloc(state):
        state = segloc_layout(state)
    elif not segloc_model and _is_segloc(state):
        state = torchvision_layout(state)
    report = LoadReport(path=str(path))
    to_load: dict[str, Tensor] = {}
    mismatched = set()
    for key, value in state.items():
        if _is_classifier(key):
            continue
        if key not in target:
            if not key.endswith(OPTIONAL_SUFFIX):
                report.unexpected.append(key)
        elif value.shape != target[key].shape:
            mismatched.add(key)
            report.shape_mismatch.append(f"{key}: file {tuple(value.shape)} vs model {tuple(target[key].shape)}")
        else:
            to_load[key] = value
            report.loaded.append(key)
    counted = [k for k in target if not k.endswith(OPTIONAL_SUFFIX) and not _is_classifier(k)]
    report.missing = [k for k in counted if k not in to_load and k not in mismatched]
    trunk = [k for k in counted if k.startswith(TRUNK_PREFIX) or not segloc_model]
    total = sum(target[k].numel() for k in trunk)
    report.trunk_fraction = sum(target[k].numel() for k in trunk if k in to_load) / max(total, 1)
    bad_values = invalid_tensors(to_load, MAX_ABS_WEIGHT)
    if bad_values:
        raise WeightsError(f"{path}: NaN, infinite or absurd (|x| > {MAX_ABS_WEIGHT:g}) values in "
                           f"{len(bad_values)} tensor(s), e.g. {', '.join(bad_values[:3])}; corrupt file?")
    trunk_mismatch = [k for k in mismatched if k.startswith(TRUNK_PREFIX) or not segloc_model]
    if strict_trunk and trunk_mismatch:
        raise WeightsError(f"{path}: {len(trunk_mismatch)} trunk tensor(s) have another shape than the "
                           f"network's; wrong architecture?\n{report.summary()}")
    if report.shape_mismatch:
        log.warning("%s: %d tensor(s) of another shape skipped: %s", path, len(report.shape_mismatch),
                    "; ".join(report.shape_mismatch[:3]))
    if report.trunk_fraction < min_fraction:
        raise WeightsError(
            f"{path}: only {report.trunk_fraction:.1%} of the trunk's parameters match this network "
            f"(need {min_fraction:.0%}); wrong file or architecture?\n{report.summary()}"
        )
    extra_trunk = [k for k in report.unexpected if k.startswith(TRUNK_PREFIX) or _is_resnet_key(k)]
    if strict_trunk and extra_trunk:
        raise WeightsError(
            f"{path}: the file has {len(extra_trunk)} trunk tensors this network lacks "
            f"(e.g. {extra_trunk[0]}); deeper architecture than the model's?\n{report.summary()}"
        )
    model.load_state_dict(to_load, strict=False)
    return report
