"""Pretraining keeps only finite checkpoints, resumes past a broken one, refuses a changed config,
and checks its data before touching the run folder."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from pretrain_fakes import FakePairs, tiny_config

from segloc.engine import NonFiniteError, load_checkpoint
from segloc.errors import ConfigError, SeglocError
from segloc.pretrain import trainer
from segloc.pretrain.export import export_backbone
from segloc.pretrain.trainer import TrainingDiverged, pretrain

torch.set_num_threads(2)
CLASSES = [1, 2, 3]


def run(path: Path, *overrides: str, **kwargs):
    return pretrain(tiny_config("segloc", *overrides), path, pairs=(FakePairs(), CLASSES), **kwargs)


def test_non_finite_bn_statistics_stop_before_the_checkpoint(tmp_path: Path, monkeypatch) -> None:
    real_step = trainer.train_step

    def poisoning_step(model, *args, **kwargs):
        stats = real_step(model, *args, **kwargs)
        if args[-2] == 1:  # the second step: BN statistics go bad while the loss stays finite
            model.encoder_q.backbone.body.bn1.running_var.fill_(float("nan"))
        return stats

    monkeypatch.setattr(trainer, "train_step", poisoning_step)
    bad_bn = r"encoder_q\.backbone\.body\.bn1\.running_var"
    with pytest.raises(TrainingDiverged, match=bad_bn + r".*step 2.*step_00000001\.pt"):
        run(tmp_path, "train.ckpt_every=1", "contrast.queue_init=random")
    assert [p.name for p in sorted((tmp_path / "checkpoints").iterdir())] == ["step_00000001.pt"]


def test_export_refuses_a_checkpoint_with_non_finite_weights(tmp_path: Path) -> None:
    result = run(tmp_path / "run", "train.steps=1", "train.ckpt_every=1", "contrast.queue_init=random")
    state = load_checkpoint(result.checkpoint)
    state["model"]["encoder_q.backbone.body.layer1.0.bn1.running_mean"][0] = float("inf")
    poisoned = tmp_path / "poisoned.pt"
    torch.save(state, poisoned)
    with pytest.raises(NonFiniteError, match=r"poisoned\.pt.*body\.layer1\.0\.bn1\.running_mean"):
        export_backbone(poisoned, tmp_path / "b.safetensors")
    assert not (tmp_path / "b.safetensors").exists()


def test_resume_falls_back_past_a_truncated_checkpoint(tmp_path: Path, caplog) -> None:
    first = run(tmp_path, "train.ckpt_every=1", "contrast.queue_init=random", stop_after=3)
    data = first.checkpoint.read_bytes()
    first.checkpoint.write_bytes(data[: len(data) // 3])
    with caplog.at_level(logging.WARNING, logger="segloc"):
        second = run(tmp_path, "train.ckpt_every=1", "contrast.queue_init=random", resume=True)
    assert "step_00000003.pt" in caplog.text and (tmp_path / "checkpoints" / "step_00000003.pt.bad").is_file()
    assert [h["step"] for h in second.history] == [3, 4] and second.step == 4


def test_resume_with_a_changed_config_is_refused(tmp_path: Path) -> None:
    run(tmp_path, "train.ckpt_every=2", stop_after=2)
    with pytest.raises(ConfigError, match=r"optim\.lr_per_256 \(0\.5 -> 0\.25\)"):
        run(tmp_path, "train.ckpt_every=2", "optim.lr_per_256=0.25", resume=True)
    assert load_checkpoint(tmp_path / "checkpoints" / "step_00000002.pt")["config"]["optim"]["lr_per_256"] == 0.5


def test_bad_data_path_leaves_no_run_folder(tmp_path: Path) -> None:
    config = tiny_config("segloc", "data.shards=" + str(tmp_path / "no-shards"))
    with pytest.raises(SeglocError, match="no-shards"):
        pretrain(config, tmp_path / "run", overwrite=True)
    assert not (tmp_path / "run").exists()
