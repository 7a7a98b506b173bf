"""optim.backbone_lr_factor: the backbone (trunk + FPN) steps at a share of the heads' lr, nothing else changes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from segloc.detection.train import FinetuneTask
from segloc.engine.distributed import DistInfo
from segloc.engine.loop import Engine


def one_step(root: Path, make_config, run_dir: Path, factor: float) -> tuple[Engine, float, float]:
    """The displacement of the backbone's and of the heads' weights after one SGD step from a fixed init."""
    cfg = make_config(root, optim={"backbone_lr_factor": factor, "warmup_steps": 0}, eval={"splits": []})
    torch.manual_seed(0)
    task = FinetuneTask(cfg, DistInfo())
    engine = Engine.detached(task, cfg, torch.device("cpu"), run_dir)
    before = {name: p.detach().clone() for name, p in task.model.named_parameters()}
    batch = next(iter(task.batches(engine)))
    torch.manual_seed(1)
    engine.train_step(batch)
    moved = {name: (p.detach() - before[name]).norm() for name, p in task.model.named_parameters()}
    backbone = torch.stack([v for k, v in moved.items() if k.startswith("backbone.")]).norm()
    heads = torch.stack([v for k, v in moved.items() if not k.startswith("backbone.")]).norm()
    return engine, float(backbone), float(heads)


def test_backbone_lr_factor_scales_the_backbone_step_only(shapes_root: Path, make_config, tmp_path: Path) -> None:
    engine, backbone, heads = one_step(shapes_root, make_config, tmp_path / "a", 0.1)
    first, second = engine.optimizer.param_groups
    assert second["lr"] == pytest.approx(0.1 * first["lr"]) and first["lr"] == pytest.approx(engine.lr)
    in_backbone = {id(p) for p in engine.task.model.backbone.parameters()}
    assert {id(p) for p in second["params"]} == in_backbone & {id(p) for p in engine.params}
    assert not in_backbone & {id(p) for p in first["params"]}

    plain, full_backbone, full_heads = one_step(shapes_root, make_config, tmp_path / "b", 1.0)
    assert len(plain.optimizer.param_groups) == 1
    assert backbone / full_backbone == pytest.approx(0.1, rel=0.05)
    assert heads == pytest.approx(full_heads, rel=0.01)
