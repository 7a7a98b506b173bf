"""Outputs: an unwritable place or a full disk is one line; nothing is left half-written; existing
files are replaced only with --overwrite."""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from bad_inputs import assert_clean_error, finetune_config, tiny_detector


@pytest.fixture
def blocked(tmp_path: Path) -> Path:
    """A path whose parent is a plain file: no process, not even root, can write under it."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    return blocker


@pytest.mark.parametrize("command", ["sixray-to-coco", "detect", "regions", "generate", "finetune", "synthesize",
                                     "evaluate", "chr train"])
def test_unwritable_output_is_one_line(cli, command: str, blocked: Path, coco, sixray: Path, pidray: Path,
                                       tmp_path: Path) -> None:
    path, images, _ = coco
    out = blocked / "out"
    args = {
        "sixray-to-coco": ["data", "sixray-to-coco", sixray, "--out", out],
        "detect": ["detect", tiny_detector(tmp_path / "m.pt"), images, "--out", out, "--device", "cpu"],
        "regions": ["regions", sixray / "JPEGImage", "--out", out],
        "generate": ["generate", "--out", out],
        "finetune": ["finetune", "--config", finetune_config(tmp_path / "ft.yaml", pidray), "--out", out],
        "synthesize": ["synthesize", "--method", "insloc", "--backgrounds", sixray / "JPEGImage", "--images", images,
                       "--pairs", "2", "--out", out],
        "evaluate": ["evaluate", tiny_detector(tmp_path / "m.pt"), "--coco", path, "--images", images, "--out", out,
                     "--device", "cpu"],
        "chr train": ["chr", "train", "--data", sixray, "--out", out, "--set", "optim.batch_size=2"],
    }[command]
    assert_clean_error(cli(*args), str(blocked))


def test_full_disk_keeps_the_old_file_and_the_rerun_works(cli, sixray: Path, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "six.json"
    assert cli("data", "sixray-to-coco", sixray, "--out", out).code == 0
    before = out.read_bytes()

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", no_space)
        result = cli("data", "sixray-to-coco", sixray, "--out", out, "--overwrite", "--include-negatives")
    assert_clean_error(result, str(out), "No space left on device")
    assert out.read_bytes() == before and not list(tmp_path.glob(".six.json*"))
    out.unlink()
    assert cli("data", "sixray-to-coco", sixray, "--out", out, "--include-negatives").code == 0
    assert len(json.loads(out.read_text())["images"]) == 8


@pytest.mark.parametrize("command", [["export"], ["chr", "export"], ["data", "sixray-to-coco"]])
def test_existing_output_needs_overwrite(cli, command: list[str], tmp_path: Path) -> None:
    out = tmp_path / "kept.safetensors"
    out.write_bytes(b"the user's file")
    assert_clean_error(cli(*command, tmp_path / "anything", "--out", out), str(out), "--overwrite")
    assert out.read_bytes() == b"the user's file"
