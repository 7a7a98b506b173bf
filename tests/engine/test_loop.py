"""The engine alone, on a linear-regression task: resume, accumulation, clipping, NaN stop, config rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from pydantic import Field

from segloc.config import Config, load_config
from segloc.engine import load_checkpoint
from segloc.engine.config import OptimConfig, TrainConfig
from segloc.engine.logger import read_metrics
from segloc.engine.loop import Engine, Task, TrainingDiverged, checkpoint_name, launch, split_batch
from segloc.engine.runfiles import trained_seconds
from segloc.errors import ConfigError

torch.set_num_threads(1)


class LineTrain(TrainConfig):
    batch_size: int = Field(8, gt=0)
    log_every: int = Field(1, gt=0)
    progress: bool = False
    tensorboard: bool = False


class LineConfig(Config):
    optim: OptimConfig = Field(default_factory=lambda: OptimConfig(lr=0.05, warmup_steps=2))
    train: LineTrain = Field(default_factory=LineTrain)
    poison_at: int | None = None  # the step whose loss is NaN

    RENAMED = {"train.ckpt_every": "train.checkpoint_every"}


class LineTask(Task):
    """y = 3x - 1 plus noise drawn from the global RNG at every step (so resume must restore it)."""

    name = "line"

    def __init__(self, config: LineConfig) -> None:
        self.config = config
        self.model = torch.nn.Linear(1, 1)
        self.steps_per_epoch = 4

    def batches(self, engine: Engine):
        while True:  # endless, as the real tasks' batches: the engine stops at its last step
            x = torch.randn(engine.per_rank, 1)
            yield {"x": x, "y": 3 * x - 1 + 0.1 * torch.randn_like(x)}

    def step(self, batch: dict, engine: Engine) -> dict[str, torch.Tensor]:
        accum, total = self.config.train.accum_steps, torch.zeros(())
        for a in engine.micro_batches():
            part = split_batch(batch, a, accum)
            loss = torch.nn.functional.mse_loss(self.model(part["x"]), part["y"])
            if self.config.poison_at == engine.step + 1:
                loss = loss * float("nan")
            engine.backward(loss)
            total = total + loss.detach() / accum
        return {"loss": total}


def run(path: Path, *overrides: str, resume: bool = False, stop_at_step: int | None = None) -> Engine:
    config = load_config(None, LineConfig, ["train.steps=8", "train.device=cpu", *overrides])
    return launch(config, path, lambda info: LineTask(config), resume=resume, stop_at_step=stop_at_step)


def weights(engine: Engine) -> list[float]:
    return [float(p.detach()) for p in engine.task.model.parameters()]


def test_resume_continues_exactly_with_one_naming_and_pruning_rule(tmp_path: Path) -> None:
    straight = run(tmp_path / "straight")
    first = run(tmp_path / "resumed", "train.checkpoint_every=3", stop_at_step=5)
    names = sorted(p.name for p in (tmp_path / "resumed" / "checkpoints").iterdir())
    assert names == [checkpoint_name(4), checkpoint_name(5)]  # steps 3, 4 (epoch end), 5 (stop); newest two kept
    assert checkpoint_name(5) == "step_00000005.pt" and first.step == 5
    with pytest.raises(ConfigError, match=r"train\.seed \(0 -> 1\)"):
        run(tmp_path / "resumed", "train.checkpoint_every=3", "train.seed=1", resume=True)
    carried = trained_seconds(tmp_path / "resumed")  # what the step-5 checkpoint spent
    assert 0.0 < carried <= first.train_seconds and trained_seconds(tmp_path / "empty") == 0.0
    second = run(tmp_path / "resumed", resume=True)  # checkpoint_every back to 1000: bookkeeping, not the run
    assert second.seconds_before == carried and second.history[0]["train_seconds"] > carried
    times = [v for _, v in read_metrics(tmp_path / "resumed" / "metrics.csv")["train_seconds"]]
    assert times == sorted(times) and len(times) == 8  # one clock over both calls
    assert weights(second) == weights(straight)
    assert [h["loss"] for h in first.history + second.history] == [h["loss"] for h in straight.history]
    assert [s for s, _ in read_metrics(tmp_path / "resumed" / "metrics.csv")["loss"]] == list(range(1, 9))
    state = load_checkpoint(second.checkpoint)
    assert state["step"] == 8 and isinstance(state["rng"], list) and len(state["rng"]) == 1
    finished = run(tmp_path / "resumed", "train.checkpoint_every=3", resume=True)  # nothing left to train
    assert finished.step == 8 and weights(finished) == weights(straight) and not finished.history


def test_accumulation_takes_the_same_steps_as_one_batch(tmp_path: Path) -> None:
    one = run(tmp_path / "one")
    accumulated = run(tmp_path / "accum", "train.accum_steps=2")
    assert weights(accumulated) == pytest.approx(weights(one), rel=1e-5)
    with pytest.raises(ConfigError, match="divisible"):
        run(tmp_path / "bad", "train.accum_steps=3")


def test_clipping_logs_the_gradient_norm(tmp_path: Path) -> None:
    engine = run(tmp_path, "optim.grad_clip=0.01")
    assert all(row["grad_norm"] > 0 for row in engine.history)
    assert {"lr", "sec_per_step", "samples_per_s"} <= set(engine.history[-1])


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(TrainingDiverged, match=r"step 3.*step_00000002\.pt"):
        run(tmp_path, "train.checkpoint_every=1", "poison_at=3")
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [checkpoint_name(1), checkpoint_name(2)]


def test_old_keys_name_the_new_key_and_saved_configs_still_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"train\.ckpt_every is now train\.checkpoint_every"):
        load_config(None, LineConfig, ["train.ckpt_every=5"])
    with pytest.raises(ConfigError, match="none, bf16, fp16"):
        load_config(None, LineConfig, ["train.amp=true"])
    saved = LineConfig.from_saved({"train": {"ckpt_every": 5, "amp": False}})
    assert saved.train.checkpoint_every == 5 and saved.train.amp == "none"
