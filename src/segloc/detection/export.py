"""Export a fine-tuned detector as one self-contained file: ONNX (onnxruntime) or TorchScript (torch.jit).

The graph takes a uint8 (H, W, 3) RGB scan of any size and does what ``segloc detect`` does: the
detector's resize and normalisation, backbone, RPN, RoI heads, NMS, boxes back in scan pixels
and masks pasted at scan size (:mod:`segloc.detection.forward`). Class names and the detector
config travel in the file's metadata (:mod:`segloc.graphs` writes it).
"""
from __future__ import annotations

from pathlib import Path

from torch import Tensor, nn
from torchvision.models.detection.generalized_rcnn import GeneralizedRCNN

from segloc import __version__
from segloc.detection.forward import prepare_image, run_detector
from segloc.detection.inference import Detector, load_detector
from segloc.detection.runtime import FORMAT_NAME, OUTPUTS
from segloc.errors import SeglocError
from segloc.graphs import noise_scan, trace_onnx, trace_torchscript, write_atomically

FORMATS = ("onnx", "torchscript")


class DetectorGraph(nn.Module):
    """The traced module: uint8 (H, W, 3) RGB scan -> boxes, scores, labels(, masks) at scan size."""

    def __init__(self, model: GeneralizedRCNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: Tensor) -> tuple[Tensor, ...]:
        prepared = prepare_image(image, self.model.transform.max_size)
        out = run_detector(self.model, [prepared], [(image.shape[0], image.shape[1])])[0]
        return tuple(out[name] for name in OUTPUTS if name in out)


def export_metadata(detector: Detector) -> dict:
    """What an export carries besides its graph: categories, mask flag, config, input and outputs."""
    outputs = list(OUTPUTS if detector.masks else OUTPUTS[:3])
    return {"format": FORMAT_NAME, "segloc": __version__, "categories": detector.categories.to_dict(),
            "masks": detector.masks, "init_name": detector.init_name,
            "model_config": detector.model_config.model_dump(mode="json"),
            "input": "image: uint8 (H, W, 3) RGB", "outputs": outputs}


def export_detector(model: Path | str, out: Path | str, fmt: str = "onnx") -> Path:
    """Write the detector of a run folder / model file to ``out`` as ``fmt`` (onnx | torchscript)."""
    if fmt not in FORMATS:
        raise SeglocError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    detector = load_detector(model, "cpu")
    graph = DetectorGraph(detector.model).eval()
    example, meta = noise_scan(detector.model_config.image_size), export_metadata(detector)
    if fmt == "torchscript":
        return write_atomically(out, lambda tmp: trace_torchscript(graph, example, tmp, meta))
    axes = {"image": {0: "height", 1: "width"}, **{name: {0: "detections"} for name in meta["outputs"]}}
    if detector.masks:
        axes["masks"] = {0: "detections", 2: "height", 3: "width"}
    return write_atomically(out, lambda tmp: trace_onnx(graph, example, tmp, meta["outputs"], axes, meta))
