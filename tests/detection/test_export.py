"""Exported detectors (ONNX through onnxruntime, TorchScript through torch.jit) give what the run folder
gives: same detections, boxes and scores within a small tolerance, masks nearly identical."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from typer.testing import CliRunner

from segloc.cli.main import app
from segloc.detection.export import export_detector
from segloc.detection.inference import detect, open_detector
from segloc.detection.runtime import ExportedDetector
from segloc.errors import SeglocError


def _scans() -> list[np.ndarray]:
    """Scans of sizes other than the traced one: noise, a flat one with a block, and a 60 x 97 one
    (its resize to 128 px rounds differently in float32 and float64 arithmetic)."""
    rng = np.random.default_rng(1)
    flat = np.full((101, 173, 3), 235, dtype=np.uint8)
    flat[30:70, 40:100] = (40, 70, 200)
    return [rng.integers(0, 256, (150, 210, 3), dtype=np.uint8), flat,
            rng.integers(0, 256, (60, 97, 3), dtype=np.uint8)]


def _mask_iou(a: dict, b: dict) -> float:
    ma, mb = (mask_utils.decode(dict(r, counts=r["counts"].encode())).astype(bool) for r in (a, b))
    union = (ma | mb).sum()
    return 1.0 if union == 0 else float((ma & mb).sum() / union)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("kind", ["cascade", "mask_rcnn"])
def test_export_matches_the_run_folder(random_detector_runs: dict[str, Path], tmp_path: Path, fmt: str,
                                       kind: str) -> None:
    run = random_detector_runs[kind]
    out = export_detector(run, tmp_path / ("detector.onnx" if fmt == "onnx" else "detector.pt"), fmt)
    exported = open_detector(out)
    assert isinstance(exported, ExportedDetector) and exported.masks
    assert exported.categories.names == ("Block", "Disc", "Wedge")
    assert exported.metadata["model_config"]["kind"] == kind
    reference = open_detector(run)
    for scan in _scans():
        ours, theirs = detect(exported, [scan], 0.05)[0], detect(reference, [scan], 0.05)[0]
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert a["category"] == b["category"]
            assert a["score"] == pytest.approx(b["score"], abs=1e-4)
            assert a["bbox"] == pytest.approx(b["bbox"], abs=0.05)
            assert _mask_iou(a["segmentation"], b["segmentation"]) > 0.95


def test_unknown_formats_are_refused(random_detector_runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(SeglocError, match="unknown export format 'tflite'"):
        export_detector(random_detector_runs["cascade"], tmp_path / "d.tflite", "tflite")


def test_export_and_detect_cli(random_detector_runs: dict[str, Path], tmp_path: Path) -> None:
    scan = tmp_path / "scan.png"
    cv2.imwrite(str(scan), _scans()[0])
    out = tmp_path / "detector.pt"
    res = CliRunner().invoke(app, ["export-detector", str(random_detector_runs["cascade"]), "--format",
                                   "torchscript", "--out", str(out)])
    assert res.exit_code == 0, res.output
    before = out.read_bytes()
    again = CliRunner().invoke(app, ["export-detector", str(random_detector_runs["cascade"]), "--out", str(out)])
    assert again.exit_code != 0 and "exists; pass --overwrite" in str(again.exception)
    assert out.read_bytes() == before
    res = CliRunner().invoke(app, ["detect", str(out), str(scan), "--out", str(tmp_path / "p.json"),
                                   "--score-thr", "0.05", "--draw", str(tmp_path / "draw")])
    assert res.exit_code == 0, res.output
    records = json.loads((tmp_path / "p.json").read_text())
    assert records[0]["detections"] and (tmp_path / "draw" / "scan.png").is_file()


def test_an_onnx_file_without_segloc_metadata_is_refused(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    node = helper.make_node("Identity", ["image"], ["boxes"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("image", TensorProto.UINT8, None)],
                              [helper.make_tensor_value_info("boxes", TensorProto.UINT8, None)])
    path = tmp_path / "other.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(SeglocError, match="not a segloc detector export"):
        open_detector(path)
