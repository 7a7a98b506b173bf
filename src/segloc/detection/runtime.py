"""Run an exported detector (ONNX through onnxruntime, TorchScript through torch.jit) like a run folder.

An export holds one graph, uint8 (H, W, 3) RGB scan -> ``boxes`` (N, 4) xyxy in scan pixels,
``scores`` (N,), ``labels`` (N,) and, with a mask head, ``masks`` (N, 1, H, W) probabilities, plus
JSON metadata (categories, mask flag, detector config) under :data:`METADATA_KEY`.
"""
from __future__ import annotations

import json
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from segloc.detection.data import CategoryMap
from segloc.errors import SeglocError
from segloc.graphs import METADATA_KEY, TORCHSCRIPT_METADATA

FORMAT_NAME = "segloc-detector"
OUTPUTS = ("boxes", "scores", "labels", "masks")


@dataclass
class ExportedDetector:
    """An exported detector with the categories and mask flag of the run it came from."""

    run: Callable[[np.ndarray], list[np.ndarray]]
    categories: CategoryMap
    masks: bool
    metadata: dict
    path: Path

    @property
    def min_score(self) -> float:
        """The lowest score the detector reports (its RoI heads' score threshold when exported)."""
        return float(self.metadata["model_config"]["score_thresh"])

    def infer(self, images: list[np.ndarray], min_score: float = 0.0) -> list[dict[str, torch.Tensor]]:
        """Detections of RGB scans (one graph call each) scoring above ``min_score``."""
        found = []
        for image in images:
            out = {name: torch.from_numpy(np.asarray(a)) for name, a in zip(OUTPUTS, self.run(np.ascontiguousarray(image)))}
            keep = out["scores"] > min_score
            found.append({name: value[keep] for name, value in out.items()})
        return found


def is_torchscript_export(path: Path) -> bool:
    """Whether ``path`` is a TorchScript archive carrying segloc's metadata (not a torch.save checkpoint)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith(f"/extra/{TORCHSCRIPT_METADATA}") for name in archive.namelist())


def is_export(path: Path | str) -> bool:
    """Whether ``path`` is an exported detector file (ONNX by suffix, TorchScript by content)."""
    path = Path(path)
    return path.is_file() and (path.suffix.lower() == ".onnx" or is_torchscript_export(path))


def _checked_metadata(path: Path, text: str | None) -> dict:
    try:
        meta = json.loads(text) if text else None
    except json.JSONDecodeError:
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise SeglocError(f"{path}: not a segloc detector export (no '{METADATA_KEY}' metadata); "
                          "write one with segloc export-detector")
    return meta


def _onnx_runner(path: Path) -> tuple[Callable[[np.ndarray], list[np.ndarray]], dict]:
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable graphs
        raise SeglocError(f"{path}: cannot load the ONNX graph: {exc}") from exc
    meta = _checked_metadata(path, session.get_modelmeta().custom_metadata_map.get(METADATA_KEY))
    return (lambda image: session.run(None, {"image": image})), meta


def _torchscript_runner(path: Path) -> tuple[Callable[[np.ndarray], list[np.ndarray]], dict]:
    extra = {TORCHSCRIPT_METADATA: ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch >= 2.9 marks torch.jit deprecated
        module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra).eval()
    meta = _checked_metadata(path, extra[TORCHSCRIPT_METADATA])

    def run(image: np.ndarray) -> list[np.ndarray]:
        with torch.no_grad():
            return [t.numpy() for t in module(torch.from_numpy(image))]

    return run, meta


def load_export(path: Path | str) -> ExportedDetector:
    """Open an exported detector on the CPU (onnxruntime for ``.onnx``, torch.jit otherwise)."""
    path = Path(path)
    run, meta = _onnx_runner(path) if path.suffix.lower() == ".onnx" else _torchscript_runner(path)
    return ExportedDetector(run, CategoryMap.from_dict(meta["categories"]), bool(meta["masks"]), meta, path)
