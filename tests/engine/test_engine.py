import random

import numpy as np
import pytest
import torch
from pydantic import Field

from segloc.config import Config, apply_overrides, load_config
from segloc.engine import (atomic_save, cosine_with_warmup, get_rng_state, latest_checkpoint, load_checkpoint,
                           multistep_with_warmup, set_rng_state)
from segloc.engine.logger import RunLogger, read_metrics
from segloc.errors import ConfigError, SeglocError


def test_atomic_save_roundtrip_and_latest(tmp_path):
    for step in (5, 20, 100):
        atomic_save({"step": step, "w": torch.arange(3)}, tmp_path / f"step_{step}.pt")
    assert latest_checkpoint(tmp_path).name == "step_100.pt"
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
    ckpt = load_checkpoint(tmp_path / "step_20.pt")
    assert ckpt["step"] == 20 and torch.equal(ckpt["w"], torch.arange(3))
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    with pytest.raises(SeglocError, match="bad.pt"):
        load_checkpoint(tmp_path / "bad.pt")


def test_rng_state_roundtrip_through_checkpoint(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    atomic_save({"rng": get_rng_state()}, tmp_path / "rng.pt")
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    set_rng_state(load_checkpoint(tmp_path / "rng.pt")["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_logger_csv_and_truncate(tmp_path):
    logger = RunLogger(tmp_path, tensorboard=False)
    for step in range(5):
        logger.log(step, loss=1.0 / (step + 1))
    logger.truncate_after(2)
    logger.log(3, loss=0.5)
    logger.close()
    assert read_metrics(tmp_path / "metrics.csv")["loss"] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3, 1e-5)), (3, 0.5)]


def test_schedules():
    cos = cosine_with_warmup(total_steps=110, warmup_steps=10)
    assert cos(0) == pytest.approx(0.001) and cos(10) == pytest.approx(1.0) and cos(110) == pytest.approx(0.0)
    assert cos(60) == pytest.approx(0.5)
    ms = multistep_with_warmup([8, 11], warmup_steps=2)
    assert ms(2) == 1.0 and ms(8) == pytest.approx(0.1) and ms(11) == pytest.approx(0.01)


class _Inner(Config):
    lr: float = 0.1
    steps: int = Field(10, gt=0)


class _Outer(Config):
    name: str = "x"
    optim: _Inner = _Inner()


def test_config_overrides_and_errors(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: run\noptim:\n  lr: 0.5\n")
    cfg = load_config(path, _Outer, ["optim.steps=3"])
    assert (cfg.name, cfg.optim.lr, cfg.optim.steps) == ("run", 0.5, 3)
    with pytest.raises(ConfigError, match=r"optim\.steps"):
        load_config(path, _Outer, ["optim.steps=0"])
    with pytest.raises(ConfigError, match="optim.lrr"):
        load_config(path, _Outer, ["optim.lrr=1"])
    with pytest.raises(ConfigError, match="key.sub=value"):
        apply_overrides({}, ["novalue"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml", _Outer)
