"""One --skip-bad everywhere: without it a broken record stops the command with one line, with it the
record is left out with one warning and a count (chr train and synthesize here; the others beside their cases)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np
from bad_inputs import assert_clean_error

from segloc.engine.runfiles import FINAL_MODEL

CHR_SMALL = [
    "--arch",
    "resnet18",
    "--set",
    "data.image_size=32",
    "--set",
    "data.resize=36",
    "--set",
    "train.batch_size=2",
    "--set",
    "train.steps=3",
    "--set",
    "eval.enabled=false",
    "--set",
    "data.workers=0",
    "--set",
    "train.amp=none",
    "--set",
    "train.device=cpu",
]


def test_chr_train_skip_bad(cli, sixray: Path, tmp_path: Path, caplog) -> None:
    (sixray / "JPEGImage" / "P00002.jpg").write_bytes(b"")
    run = tmp_path / "run"
    assert_clean_error(cli("chr", "train", "--data", sixray, "--out", run, *CHR_SMALL), "P00002.jpg")
    with caplog.at_level(logging.WARNING, logger="segloc"):
        result = cli("chr", "train", "--data", sixray, "--out", run, *CHR_SMALL, "--skip-bad")
    assert result.code == 0, result.err
    assert "P00002.jpg" in caplog.text and "skipped 1 bad record" in caplog.text
    assert (run / FINAL_MODEL).is_file()


def test_synthesize_skip_bad(cli, coco, tmp_path: Path, caplog) -> None:
    path, images, _ = coco
    (images / "s1.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    backgrounds = tmp_path / "bags"
    backgrounds.mkdir()
    for i in range(2):
        bag = np.full((120, 160, 3), 245, np.uint8)
        bag[20:100, 30 + i : 140] = 90
        cv2.imwrite(str(backgrounds / f"N{i}.jpg"), bag)
    args = [
        "synthesize",
        "--backgrounds",
        backgrounds,
        "--labelled",
        path,
        "--images",
        images,
        "--pairs",
        "2",
        "--target-width",
        "64",
        "--out",
        tmp_path / "pairs",
    ]
    assert_clean_error(cli(*args), "s1.png")
    with caplog.at_level(logging.WARNING, logger="segloc"):
        result = cli(*args, "--skip-bad")
    assert result.code == 0, result.err
    summary = json.loads(result.out.strip().splitlines()[-1])
    assert summary["pairs"] == 2 and summary["written"] == 1
    assert "s1.png" in caplog.text
