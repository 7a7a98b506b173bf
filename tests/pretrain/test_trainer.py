"""Training runs on tiny fake pairs: queue invariant from the file, exact resume, NaN stop, export, modes."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torchvision
from pretrain_fakes import FakePairs, tiny_config
from safetensors.torch import load_file

from segloc.config import load_config
from segloc.engine import load_checkpoint
from segloc.engine.distributed import DistInfo
from segloc.models import build_backbone, load_backbone_weights
from segloc.pretrain.config import PretrainConfig
from segloc.pretrain.data import StepBatchSampler
from segloc.pretrain.export import export_backbone
from segloc.pretrain.queues import class_queue_violations
from segloc.pretrain.trainer import PretrainTask, TrainingDiverged, pretrain

torch.set_num_threads(2)
CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "pretrain"
CLASSES = [1, 2, 3]


def run(path: Path, *overrides: str, **kwargs):
    pairs = kwargs.pop("pairs", None) or FakePairs()
    return pretrain(tiny_config("segloc", *overrides), path, pairs=(pairs, CLASSES), **kwargs)


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory):
    """Four steps in one go, a checkpoint every two."""
    return run(tmp_path_factory.mktemp("straight"))


def test_class_queue_invariant_holds_in_the_checkpoint_file(straight) -> None:
    state = load_checkpoint(straight.checkpoint)["model"]
    labels, classes, ptr = state["queues.labels"], state["queues.classes"], state["queues.ptr"]
    assert classes.tolist() == CLASSES
    assert class_queue_violations(labels, classes) == 0
    assert (labels >= 0).all()  # dictionary initialisation filled every entry with real keys
    size = labels.shape[1]
    assert torch.equal(ptr, state["queues.written"] % size)
    assert (state["queues.written"] > 2 * size).all()  # the pointers wrapped around during training
    # the newest entries of queue c are the last step's keys of the other classes, in batch order
    sampler = StepBatchSampler(len(FakePairs()), 8, 0, 3, 4)
    last_labels = [CLASSES[i % 3] for _, i in next(iter(sampler))]
    for q, c in enumerate(CLASSES):
        others = [lab for lab in last_labels if lab != c]
        slots = [(int(ptr[q]) - len(others) + j) % size for j in range(len(others))]
        assert labels[q, slots].tolist() == others
    keys = state["queues.keys"]
    assert torch.allclose(keys.norm(dim=-1), torch.ones(()), atol=1e-4)


def test_resume_continues_exactly(straight, tmp_path: Path) -> None:
    first = run(tmp_path, stop_at_step=2)
    assert first.step == 2
    second = run(tmp_path, resume=True)
    assert [h["step"] for h in first.history + second.history] == [1, 2, 3, 4]
    for a, b in zip(straight.history, first.history + second.history):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6, abs=1e-6)
        assert a["lr"] == pytest.approx(b["lr"], rel=1e-9)
    want, got = load_checkpoint(straight.checkpoint), load_checkpoint(second.checkpoint)
    for name, tensor in want["model"].items():
        assert torch.allclose(tensor.float(), got["model"][name].float(), atol=1e-6), name
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    assert sum(r.startswith("2,loss,") for r in rows) == 1  # no duplicated steps in the log


def test_log_txt_records_queue_initialisation_and_training(straight) -> None:
    text = (straight.run_dir / "log.txt").read_text(encoding="utf-8")
    assert "queues initialised with keys" in text
    assert "pretraining segloc (resnet18) from step 0 to 4 of 4" in text and "step 4: loss" in text


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    poisoned = FakePairs(length=16, poison_epoch=1)  # 2 steps per epoch: step 3 is the first bad one
    with pytest.raises(TrainingDiverged, match=r"step 3.*step_00000002\.pt"):
        run(tmp_path, "train.checkpoint_every=1", "contrast.queue_init=random", pairs=poisoned)
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("*.pt")) == ["step_00000001.pt", "step_00000002.pt"]


def test_export_loads_into_a_fresh_backbone_key_for_key(straight, tmp_path: Path) -> None:
    state = load_checkpoint(straight.checkpoint)["model"]
    out = export_backbone(straight.checkpoint, tmp_path / "backbone.safetensors")
    fresh = build_backbone("resnet18")
    report = load_backbone_weights(fresh, out)
    assert report.missing == [] and report.unexpected == [] and report.shape_mismatch == []
    for name, tensor in fresh.state_dict().items():
        assert torch.equal(tensor, state[f"encoder_q.backbone.{name}"]), name
    from_run = load_file(str(export_backbone(straight.run_dir, tmp_path / "from-run.safetensors")))
    assert from_run.keys() == load_file(str(out)).keys()
    assert all(torch.equal(from_run[k], v) for k, v in load_file(str(out)).items())
    tv = export_backbone(straight.checkpoint, tmp_path / "resnet.safetensors", "torchvision")
    weights = load_file(str(tv))
    resnet = torchvision.models.resnet18(weights=None)
    result = resnet.load_state_dict(weights, strict=False)
    assert result.unexpected_keys == [] and sorted(result.missing_keys) == ["fc.bias", "fc.weight"]
    assert torch.equal(resnet.layer3[1].conv2.weight, state["encoder_q.backbone.body.layer3.1.conv2.weight"])


@pytest.mark.parametrize("method", ["insloc", "moco"])
def test_baselines_train_and_log(method: str, tmp_path: Path) -> None:
    result = pretrain(
        tiny_config(method, "train.steps=2", "train.checkpoint_every=5"),
        tmp_path,
        pairs=(FakePairs(labelled=False), []),
    )
    levels = ["global"] if method == "moco" else ["p2", "p3", "p4", "p5"]
    row = result.history[-1]
    assert {f"loss_{lv}" for lv in levels} <= set(row)
    assert row["loss"] == pytest.approx(sum(row[f"loss_{lv}"] for lv in levels), rel=1e-5)
    assert row["queue_fill"] == pytest.approx(2 * 8 / 16) and row["samples_per_s"] > 0
    assert row["std"] == pytest.approx(sum(row[f"std_{lv}"] for lv in levels) / len(levels), rel=1e-5)
    model = load_checkpoint(result.checkpoint)["model"]
    assert model["queues.keys"].shape[:2] == (len(levels), 1)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_configs_validate(path: Path) -> None:
    config = load_config(path, PretrainConfig)
    assert config.train.batch_size % config.train.accum_steps == 0
    if "paper" in path.stem:
        assert config.backbone.arch == "resnet101" and config.backbone.attention and config.train.batch_size == 64


def test_a_collapsed_head_is_reported_once(caplog) -> None:
    task = PretrainTask(tiny_config("segloc"), DistInfo(), FakePairs(), [1, 2, 3])
    engine = SimpleNamespace(step=7)
    with caplog.at_level(logging.WARNING, logger="segloc"):
        task.log_row({"acc_p2": 0.5, "rank_p2": 0.5, "std_p2": 0.3}, engine)
        assert "collapsed" not in caplog.text
        for std in (0.01, 0.002):
            task.log_row({"acc_p2": 0.5, "rank_p2": 0.5, "std_p2": std}, engine)
    assert caplog.text.count("collapsed") == 1 and "step 7" in caplog.text


@pytest.mark.parametrize("factor", [0.0, 0.1])
def test_head_lr_factor_groups_the_embedding_head_apart(factor: float) -> None:
    task = PretrainTask(tiny_config("segloc", f"optim.head_lr_factor={factor}"), DistInfo(), FakePairs(), CLASSES)
    head = {id(p) for p in task.model.encoder_q.head.parameters()}
    groups = task.param_groups()
    assert [f for _, f in groups] == ([1.0] if factor == 0 else [1.0, factor])
    assert not any(id(p) in head for p in groups[0][0])
    grouped = [id(p) for params, _ in groups for p in params]
    assert sorted(grouped) == sorted(id(p) for p in task.parameters() if factor > 0 or id(p) not in head)


def test_a_frozen_head_stays_equal_to_its_momentum_copy(tmp_path: Path) -> None:
    result = run(tmp_path, "optim.head_lr_factor=0", "train.steps=2")
    state = load_checkpoint(result.checkpoint)["model"]
    heads = [k for k in state if k.startswith("encoder_q.head.") and "running" not in k and "num_batches" not in k]
    assert heads and all(torch.equal(state[k], state[k.replace("encoder_q", "encoder_k", 1)]) for k in heads)
    trunk = "encoder_q.backbone.body.layer1.0.conv1.weight"
    assert not torch.equal(state[trunk], state[trunk.replace("encoder_q", "encoder_k", 1)])
