"""Exact resume: stopping after step 3 and resuming gives the same weights and losses as running through."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from segloc.detection import finetune
from segloc.detection.inference import FINAL_MODEL
from segloc.engine import load_checkpoint
from segloc.engine.logger import read_metrics
from segloc.errors import ConfigError


def test_resume_is_exact(shapes_root: Path, make_config, tmp_path: Path) -> None:
    # 2 epochs x 2 steps; the stop falls in the middle of epoch 2, flips and RoI sampling are random.
    cfg = make_config(shapes_root, eval={"splits": []}, train={"epochs": 2, "checkpoint_every": 1000})
    straight = finetune(cfg, tmp_path / "straight", progress=False)
    stopped = finetune(cfg, tmp_path / "resumed", stop_at_step=3, progress=False)
    assert not (stopped / FINAL_MODEL).exists()
    assert sorted(p.name for p in (stopped / "checkpoints").iterdir()) == ["step_2.pt", "step_3.pt"]
    state = load_checkpoint(stopped / "checkpoints" / "step_3.pt")
    assert (state["epoch"], state["position"], state["step"]) == (1, 1, 3)
    finetune(cfg, stopped, resume=True, progress=False)

    a = load_checkpoint(straight / FINAL_MODEL)["model"]
    b = load_checkpoint(stopped / FINAL_MODEL)["model"]
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])][:5]
    losses = [read_metrics(run / "metrics.csv")["loss"] for run in (straight, stopped)]
    assert losses[0] == losses[1] and [s for s, _ in losses[0]] == [1, 2, 3, 4]

    with pytest.raises(ConfigError, match="different configuration"):
        finetune(make_config(shapes_root, eval={"splits": []}, train={"epochs": 3}), stopped, resume=True,
                 progress=False)
