"""Two gloo ranks on CPU compute exactly what one process computes by accumulating two micro-batches.

Each rank's batch is one BatchNorm batch, as is each micro-batch of an accumulating process; the
key shuffle (shuffle-BN) permutes the global batch with a generator seeded by (seed, step), and
the same permutation is cut into the same key groups in both set-ups (2 ranks x 1 group vs
1 process x 2 accumulation groups). So the runs must agree on losses, queues and weights;
only BN running statistics differ (DDP keeps them per rank), and they are not compared. The
tolerance covers float reduction order (the ranks run with one thread, the test with two).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from pretrain_fakes import FakePairs, distributed_worker, free_port, tiny_config

from segloc.engine import load_checkpoint
from segloc.pretrain.trainer import pretrain

torch.set_num_threads(2)
OVERRIDES = ("train.steps=2", "contrast.shuffle_groups=1", "contrast.queue_size=8")


def test_two_ranks_equal_one_process_with_accumulation(tmp_path: Path) -> None:
    mp.spawn(distributed_worker, args=(2, free_port(), str(tmp_path / "ddp"), OVERRIDES), nprocs=2)
    single = pretrain(
        tiny_config("segloc", *OVERRIDES, "train.accum_steps=2"), tmp_path / "single", pairs=(FakePairs(), [1, 2, 3])
    )
    ddp_history = json.loads((tmp_path / "ddp" / "history.json").read_text())
    for a, b in zip(ddp_history, single.history, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["acc"] == b["acc"]
    ddp = load_checkpoint(tmp_path / "ddp" / "checkpoints" / "step_00000002.pt")
    assert ddp["world_size"] == 2
    want = load_checkpoint(single.checkpoint)["model"]
    for name, tensor in ddp["model"].items():
        if "running_" in name or "num_batches_tracked" in name:
            continue
        assert torch.allclose(tensor.float(), want[name].float(), atol=1e-5), name
    assert torch.equal(ddp["model"]["queues.labels"], want["queues.labels"])
    assert (want["queues.written"] > want["queues.labels"].shape[1]).all()
