"""CHR exported as ONNX: onnxruntime gives the classifier's probabilities and CAMs; overwrite refused."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from segloc.classification.evaluate import classify_scan, load_trained
from segloc.classification.export import ChrGraph, export_chr
from segloc.cli.chr import app
from segloc.errors import SeglocError


def test_onnx_export_matches_the_run(random_chr_run: Path, tmp_path: Path) -> None:
    import onnxruntime as ort

    out = export_chr(random_chr_run, tmp_path / "chr.onnx", "onnx")
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    meta = json.loads(session.get_modelmeta().custom_metadata_map["segloc"])
    assert meta["class_names"] == ["Gun", "Knife", "Wrench", "Pliers", "Scissors"] and meta["image_size"] == 64
    model, config, _ = load_trained(random_chr_run)
    graph = ChrGraph(model, 64).eval()
    scan = np.random.default_rng(0).integers(0, 256, (90, 130, 3), dtype=np.uint8)
    scores, cams = session.run(None, {"image": scan})
    with torch.no_grad():
        ref_scores, ref_cams = (t.numpy() for t in graph(torch.from_numpy(scan)))
    assert cams.shape == (5, 90, 130)
    assert np.allclose(scores, ref_scores, atol=1e-5) and np.allclose(cams, ref_cams, atol=1e-3)
    eval_scores, eval_cams = classify_scan(model, scan, 64)  # cv2's uint8 resize, as chr evaluate does
    assert np.allclose(scores, eval_scores, atol=2e-2)
    assert np.corrcoef(cams.ravel(), eval_cams.ravel())[0, 1] > 0.99


def test_export_cli_refuses_to_overwrite_and_unknown_formats(random_chr_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "trunk.safetensors"
    res = CliRunner().invoke(app, ["export", str(random_chr_run), "--out", str(out)])
    assert res.exit_code == 0, res.output
    again = CliRunner().invoke(app, ["export", str(random_chr_run), "--out", str(out), "--format", "onnx"])
    assert isinstance(again.exception, SeglocError) and "exists; pass --overwrite" in str(again.exception)
    assert CliRunner().invoke(app, ["export", str(random_chr_run), "--out", str(out), "--overwrite"]).exit_code == 0
    with pytest.raises(SeglocError, match="unknown export format 'tflite'"):
        export_chr(random_chr_run, tmp_path / "x", "tflite")
