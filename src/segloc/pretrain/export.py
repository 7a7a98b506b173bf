"""``segloc export``: the query encoder's backbone (+ FPN + attention) of a pretraining checkpoint."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from safetensors.torch import save

from segloc.engine import atomic_write_bytes, check_finite, load_checkpoint
from segloc.engine.runfiles import run_model_file
from segloc.errors import SeglocError
from segloc.models import BackboneWithFPN, save_backbone, torchvision_layout
from segloc.pretrain.builder import build_backbone_from
from segloc.pretrain.config import PretrainConfig

BACKBONE_PREFIX = "encoder_q.backbone."
ExportFormat = Literal["segloc", "torchvision"]


def checkpoint_backbone(checkpoint: Path | str) -> tuple[BackboneWithFPN, dict]:
    """Rebuild the query backbone of a checkpoint, or of a run folder's latest one (strict, key for key),
    and return it with run facts."""
    checkpoint = run_model_file(checkpoint)
    state = load_checkpoint(checkpoint)
    if "config" not in state or "model" not in state:
        raise SeglocError(f"{checkpoint}: not a segloc pretraining checkpoint (no config/model)")
    config = PretrainConfig.model_validate(state["config"])
    backbone = build_backbone_from(config, weights=False)
    weights = {k[len(BACKBONE_PREFIX):]: v for k, v in state["model"].items() if k.startswith(BACKBONE_PREFIX)}
    check_finite(weights, checkpoint)
    result = backbone.load_state_dict(weights, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise SeglocError(f"{checkpoint}: backbone keys do not match its config "
                          f"(missing {result.missing_keys[:3]}, unexpected {result.unexpected_keys[:3]})")
    facts = {"method": config.method, "step": int(state["step"]), "source": str(Path(checkpoint).resolve())}
    return backbone, facts


def export_backbone(checkpoint: Path | str, out: Path | str, fmt: ExportFormat = "segloc") -> Path:
    """Write the pretrained backbone as safetensors.

    ``segloc``: trunk + FPN (+ attention) with the detector's own keys and build metadata
    (``models.save_backbone``). ``torchvision``: the trunk alone in torchvision ResNet names.
    """
    backbone, facts = checkpoint_backbone(checkpoint)
    out = Path(out)
    if fmt == "segloc":
        return save_backbone(backbone, out, meta=facts)
    if fmt != "torchvision":
        raise SeglocError(f"unknown export format {fmt!r}; use 'segloc' or 'torchvision'")
    state = {k: v.detach().cpu().contiguous() for k, v in torchvision_layout(backbone.state_dict()).items()}
    metadata = {"format": "torchvision", **{k: json.dumps(v) for k, v in facts.items()}}
    return atomic_write_bytes(save(state, metadata=metadata), out)
