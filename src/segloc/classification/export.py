"""Export a trained CHR model: its ResNet trunk as a segloc backbone file (to initialise the
detector), or the whole classifier as one ONNX graph (scan in; class probabilities and CAMs out)."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from segloc import __version__
from segloc.classification.chr import CHRNet
from segloc.classification.data import MEAN, STD
from segloc.classification.evaluate import load_trained
from segloc.errors import SeglocError
from segloc.graphs import noise_scan, trace_onnx, write_atomically
from segloc.models.spec import RESNETS

FORMATS = ("safetensors", "onnx")


def export_backbone(path: Path | str, out: Path | str) -> Path:
    """Write the trunk of the CHR run/checkpoint ``path`` to safetensors ``out``.

    Keys are ``body.`` + torchvision ResNet names (``body.conv1.weight``, ``body.layer1.0...``),
    metadata format="segloc", arch, norm="bn", method="chr" (the init's name in reports, as a pretraining
    export's method), source="chr", variant, subset: the layout of a pretraining export, read by
    ``segloc.models.weights.load_backbone_weights``.
    """
    from segloc.models.weights import save_backbone

    model, config, _ = load_trained(path)
    if config.model.arch not in RESNETS:
        raise SeglocError(f"{path}: only ResNet trunks can initialise the detector, this run used {config.model.arch}")
    holder = nn.Module()
    holder.body = model.trunk.body
    holder.config = {"arch": config.model.arch, "norm": "bn"}
    meta = {"method": "chr", "source": "chr", "variant": config.model.variant, "subset": config.data.subset}
    return save_backbone(holder, out, meta)


class ChrGraph(nn.Module):
    """The exported classifier: uint8 (H, W, 3) RGB scan -> ``scores`` (C,) probabilities and ``cams``
    (C, H, W) at scan size; the scan is warped to ``size`` and normalised as ``segloc chr evaluate`` does."""

    def __init__(self, model: CHRNet, size: int) -> None:
        super().__init__()
        self.model = model
        self.size = size
        self.register_buffer("mean", torch.from_numpy(MEAN)[:, None, None])
        self.register_buffer("std", torch.from_numpy(STD)[:, None, None])

    def forward(self, image: Tensor) -> tuple[Tensor, Tensor]:
        x = image.permute(2, 0, 1)[None].to(torch.float32) / 255.0
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        logits, cams = self.model.logits_and_cams((x - self.mean) / self.std, (image.shape[0], image.shape[1]))
        return torch.sigmoid(logits[0]), cams[0]


def export_onnx(path: Path | str, out: Path | str) -> Path:
    """Write the CHR run/checkpoint ``path`` as an ONNX graph; class names and input size in its metadata."""
    model, config, class_names = load_trained(path)
    size = config.data.image_size
    graph = ChrGraph(model, size).eval()
    meta = {
        "format": "segloc-chr",
        "segloc": __version__,
        "class_names": class_names,
        "image_size": size,
        "arch": config.model.arch,
        "variant": config.model.variant,
        "input": "image: uint8 (H, W, 3) RGB",
        "outputs": ["scores", "cams"],
    }
    axes = {"image": {0: "height", 1: "width"}, "cams": {1: "height", 2: "width"}}
    return write_atomically(out, lambda tmp: trace_onnx(graph, noise_scan(size), tmp, meta["outputs"], axes, meta))


def export_chr(path: Path | str, out: Path | str, fmt: str = "safetensors") -> Path:
    """Export the CHR run ``path`` as ``fmt``: safetensors (the trunk) or onnx (the whole classifier)."""
    if fmt not in FORMATS:
        raise SeglocError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return export_onnx(path, out) if fmt == "onnx" else export_backbone(path, out)
