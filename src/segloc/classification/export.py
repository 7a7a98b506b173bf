"""Export a trained CHR ResNet trunk as a segloc backbone file, so it can initialise the detector."""
from __future__ import annotations

from pathlib import Path

from torch import nn

from segloc.classification.chr import RESNETS
from segloc.classification.evaluate import load_trained
from segloc.errors import SeglocError


def export_backbone(path: Path | str, out: Path | str) -> Path:
    """Write the trunk of the CHR run/checkpoint ``path`` to safetensors ``out``.

    Keys are ``body.`` + torchvision ResNet names (``body.conv1.weight``, ``body.layer1.0...``),
    metadata format="segloc", arch, norm="bn", source="chr", variant, subset: the layout of a
    pretraining export, read by ``segloc.models.weights.load_backbone_weights``.
    """
    from segloc.models.weights import save_backbone

    model, config, _ = load_trained(path)
    if config.model.backbone not in RESNETS:
        raise SeglocError(f"{path}: only ResNet trunks can initialise the detector, this run used "
                          f"{config.model.backbone}")
    holder = nn.Module()
    holder.body = model.trunk.body
    holder.config = {"arch": config.model.backbone, "norm": "bn"}
    meta = {"source": "chr", "variant": config.model.variant, "subset": config.data.subset}
    return save_backbone(holder, out, meta)
