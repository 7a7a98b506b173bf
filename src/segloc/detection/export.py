"""Export a fine-tuned detector as one self-contained file: ONNX (onnxruntime) or TorchScript (torch.jit).

The graph takes a uint8 (H, W, 3) RGB scan of any size and does what ``segloc detect`` does: the
detector's resize and normalisation, backbone, RPN, RoI heads, NMS, boxes back in scan pixels
and masks pasted at scan size (:mod:`segloc.detection.forward`). It is traced once on a noise
scan; sizes stay symbolic, so any scan size runs. Class names and the detector config travel in
the file's metadata.
"""
from __future__ import annotations

import inspect
import json
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import Tensor, nn
from torchvision.models.detection.generalized_rcnn import GeneralizedRCNN

from segloc import __version__
from segloc.detection.forward import prepare_image, run_detector
from segloc.detection.inference import Detector, load_detector
from segloc.detection.runtime import FORMAT_NAME, METADATA_KEY, OUTPUTS, TORCHSCRIPT_METADATA
from segloc.errors import SeglocError

FORMATS = ("onnx", "torchscript")
ONNX_OPSET = 17


class DetectorGraph(nn.Module):
    """The traced module: uint8 (H, W, 3) RGB scan -> boxes, scores, labels(, masks) at scan size."""

    def __init__(self, model: GeneralizedRCNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: Tensor) -> tuple[Tensor, ...]:
        prepared = prepare_image(image, self.model.transform)
        out = run_detector(self.model, [prepared], [(image.shape[0], image.shape[1])])[0]
        return tuple(out[name] for name in OUTPUTS if name in out)


def export_metadata(detector: Detector) -> dict:
    """What an export carries besides its graph: categories, mask flag, config, input and outputs."""
    outputs = list(OUTPUTS if detector.masks else OUTPUTS[:3])
    return {"format": FORMAT_NAME, "segloc": __version__, "categories": detector.categories.to_dict(),
            "masks": detector.masks, "init_name": detector.init_name,
            "model_config": detector.model_config.model_dump(mode="json"),
            "input": "image: uint8 (H, W, 3) RGB", "outputs": outputs}


def example_scan(size: int) -> Tensor:
    """A fixed noise scan (3/4 as high as wide) to trace the graph with."""
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (size * 3 // 4, size, 3), dtype=torch.uint8, generator=generator)


@contextmanager
def _quiet_tracing() -> Iterator[None]:
    """Silence the tracer's and the exporters' expected warnings (shapes are traced symbolically)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _write_onnx(graph: DetectorGraph, example: Tensor, meta: dict, path: Path) -> None:
    import onnx

    outputs = meta["outputs"]
    axes = {"image": {0: "height", 1: "width"}, **{name: {0: "detections"} for name in outputs}}
    if "masks" in outputs:
        axes["masks"] = {0: "detections", 2: "height", 3: "width"}
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(graph, (example,), str(path), input_names=["image"], output_names=outputs,
                      dynamic_axes=axes, opset_version=ONNX_OPSET, **legacy)
    model = onnx.load(str(path))
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(meta)
    onnx.save(model, str(path))


def _write_torchscript(graph: DetectorGraph, example: Tensor, meta: dict, path: Path) -> None:
    traced = torch.jit.trace(graph, (example,), check_trace=False)
    torch.jit.save(traced, str(path), _extra_files={TORCHSCRIPT_METADATA: json.dumps(meta)})


def export_detector(model: Path | str, out: Path | str, fmt: str = "onnx", overwrite: bool = False) -> Path:
    """Write the detector of a run folder / model file to ``out`` as ``fmt`` (onnx | torchscript)."""
    out = Path(out)
    if fmt not in FORMATS:
        raise SeglocError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if out.exists() and not overwrite:
        raise SeglocError(f"{out}: already exists; pass --overwrite to replace it")
    detector = load_detector(model, "cpu")
    graph = DetectorGraph(detector.model).eval()
    example = example_scan(detector.model_config.image_size)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        with _quiet_tracing(), torch.no_grad():
            (_write_onnx if fmt == "onnx" else _write_torchscript)(graph, example, export_metadata(detector), Path(tmp))
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out
