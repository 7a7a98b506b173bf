"""Exact resume: stopping after step 3 and resuming gives the same weights and losses as running through."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from segloc.detection import finetune
from segloc.engine import load_checkpoint
from segloc.engine.runfiles import BEST_MODEL, FINAL_MODEL
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


def test_validation_keeps_the_best_model_and_leaves_training_unchanged(draw_coco, make_config, tmp_path: Path) -> None:
    root = tmp_path / "data"
    draw_coco(root, "train", "xray_train.json", 4, seed=0)
    draw_coco(root, "val", "xray_val.json", 2, seed=5)
    train = {"epochs": 2, "checkpoint_every": 1000}
    validated = finetune(make_config(root, train=train), tmp_path / "val", progress=False)
    plain = finetune(make_config(root, train=train, eval={"val_every": 0}), tmp_path / "plain", progress=False)
    stopped = finetune(make_config(root, train=train), tmp_path / "resumed", stop_at_step=3, progress=False)
    finetune(make_config(root, train=train), stopped, resume=True, progress=False)

    a = load_checkpoint(validated / FINAL_MODEL)["model"]
    for other in (plain, stopped):
        b = load_checkpoint(other / FINAL_MODEL)["model"]
        assert all(torch.equal(a[k], b[k]) for k in a), other
    series = read_metrics(validated / "metrics.csv")
    assert [s for s, _ in series["val/bbox_AP"]] == [2, 4] and "val/bbox_AP" not in read_metrics(plain / "metrics.csv")
    assert read_metrics(stopped / "metrics.csv")["val/bbox_AP"] == series["val/bbox_AP"]
    best = max(series["val/bbox_AP"], key=lambda row: row[1])
    state = load_checkpoint(validated / "checkpoints" / "step_4.pt")
    assert state["best"]["step"] == best[0] and state["best"]["bbox_AP"] == pytest.approx(best[1], abs=1e-5)
    assert (validated / BEST_MODEL).is_file() and not (plain / BEST_MODEL).exists()
    assert "val bbox AP" in (validated / "log.txt").read_text()
