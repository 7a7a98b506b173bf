"""Tiny deterministic pair datasets and configs for the pretraining tests (CPU, seconds)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from segloc.config import apply_overrides
from segloc.pretrain.config import PretrainConfig
from segloc.pretrain.trainer import pretrain


class FakePairs(Dataset):
    """Pairs of random scans, each view with a class-coloured square at its box; fresh per epoch.

    ``sizes``: image sides drawn per item (varied sizes exercise padding); ``poison_epoch``:
    every image of that epoch is NaN (to test the divergence stop).
    """

    def __init__(
        self,
        length: int = 32,
        classes: tuple[int, ...] = (1, 2, 3),
        sizes: tuple[int, ...] = (48,),
        labelled: bool = True,
        poison_epoch: int | None = None,
    ) -> None:
        self.length, self.classes, self.sizes = length, classes, sizes
        self.labelled, self.poison_epoch = labelled, poison_epoch
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def _view(self, g: torch.Generator, label: int) -> dict[str, Any]:
        h = self.sizes[int(torch.randint(len(self.sizes), (1,), generator=g))]
        w = self.sizes[int(torch.randint(len(self.sizes), (1,), generator=g))]
        image = torch.randn(3, h, w, generator=g) * 0.3
        side = int(torch.randint(10, 20, (1,), generator=g))
        x, y = (int(torch.randint(0, s - side, (1,), generator=g)) for s in (w, h))
        colour = torch.tensor([(label * 0.7) % 2 - 1, (label * 1.3) % 2 - 1, (label * 0.4) % 2 - 1])
        image[:, y : y + side, x : x + side] += colour.view(3, 1, 1) * 2
        if self.epoch == self.poison_epoch:
            image.fill_(float("nan"))
        mask = torch.zeros(h, w, dtype=torch.uint8)
        mask[y : y + side, x : x + side] = 1
        box = torch.tensor([x, y, x + side, y + side], dtype=torch.float32)
        return {"image": image, "box": box, "mask": mask, "label": label}

    def __getitem__(self, index: int) -> dict[str, Any]:
        g = torch.Generator().manual_seed(self.epoch * 1_000_003 + index)
        label = self.classes[index % len(self.classes)] if self.labelled else -1
        return {"view1": self._view(g, label), "view2": self._view(g, label), "index": index}


def tiny_config(method: str = "segloc", *overrides: str) -> PretrainConfig:
    """resnet18 + FPN, a small RoI head, tiny queues, batch 8, CPU, full precision, log every step."""
    data: dict[str, Any] = {
        "method": method,
        "backbone": {"arch": "resnet18"},
        "head": {"dim": 16, "num_convs": 0, "fc_dim": 64},
        "contrast": {"queue_size": 16, "queue_init": "keys" if method == "segloc" else "random", "shuffle_groups": 2},
        "data": {"source": "shards", "shards": "unused-pairs-are-passed-in", "workers": 0},
        "optim": {"lr": 0.5, "warmup_steps": 2},
        "train": {
            "batch_size": 8,
            "steps": 4,
            "device": "cpu",
            "amp": "none",
            "log_every": 1,
            "checkpoint_every": 4,
            "progress": False,
            "tensorboard": False,
        },
    }
    return PretrainConfig.model_validate(apply_overrides(data, overrides))


def free_port() -> int:
    """A TCP port nobody listens on right now (for a local process group)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def distributed_worker(rank: int, world: int, port: int, run_dir: str, overrides: tuple[str, ...]) -> None:
    """One rank of a gloo CPU run of :func:`segloc.pretrain.trainer.pretrain` on :class:`FakePairs`."""
    os.environ.update(
        RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    torch.set_num_threads(1)
    result = pretrain(tiny_config("segloc", *overrides), run_dir, pairs=(FakePairs(), [1, 2, 3]))
    if rank == 0:
        Path(run_dir, "history.json").write_text(json.dumps(result.history))
