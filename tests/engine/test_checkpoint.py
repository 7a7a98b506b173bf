"""Checkpoints: finite or not written, failed writes as one error, fallback past broken ones."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from segloc.engine import NonFiniteError, atomic_save, atomic_write_text, invalid_tensors, load_latest_good
from segloc.errors import SeglocError


def test_non_finite_state_is_never_saved(tmp_path: Path) -> None:
    state = {"model": {"bn.running_var": torch.tensor([1.0, float("nan")]), "w": torch.ones(2)}, "step": 3}
    with pytest.raises(NonFiniteError, match=r"model\.bn\.running_var"):
        atomic_save(state, tmp_path / "step_3.pt")
    assert list(tmp_path.iterdir()) == []


def test_invalid_tensors_limit_and_integers() -> None:
    state = {"a": torch.tensor([1e30]), "b": [torch.tensor([float("inf")])], "n": torch.tensor([2**40])}
    assert invalid_tensors(state) == ["b.0"]
    assert invalid_tensors(state, limit=1e6) == ["a", "b.0"]


def test_failed_write_is_one_error_and_leaves_the_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "step_1.pt"
    atomic_save({"step": 1}, target)
    before = target.read_bytes()

    def full_disk(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:778] . PytorchStreamWriter failed writing file")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(SeglocError, match=r"step_1\.pt: cannot write"):
        atomic_save({"step": 2}, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["step_1.pt"]
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    with pytest.raises(SeglocError, match="cannot write"):
        atomic_write_text("{}", blocked / "out.json")


def test_resume_falls_back_past_a_truncated_checkpoint(tmp_path: Path, caplog) -> None:
    atomic_save({"step": 1, "w": torch.ones(3)}, tmp_path / "step_1.pt")
    atomic_save({"step": 2, "w": torch.ones(3)}, tmp_path / "step_2.pt")
    data = (tmp_path / "step_2.pt").read_bytes()
    (tmp_path / "step_2.pt").write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger="segloc"):
        path, state = load_latest_good(tmp_path)
    assert path.name == "step_1.pt" and state["step"] == 1
    assert "step_2.pt" in caplog.text and (tmp_path / "step_2.pt.bad").is_file()
    (tmp_path / "step_1.pt").write_bytes(b"garbage")
    with pytest.raises(SeglocError, match="no usable checkpoint"):
        load_latest_good(tmp_path)
    assert load_latest_good(tmp_path / "none") is None
