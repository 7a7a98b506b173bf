"""Scratch: a checkpoint's positive rank and loss against its own queues, on fresh pairs of its config (no update)."""
import sys

import torch

from segloc.pretrain.builder import build_model
from segloc.pretrain.config import PretrainConfig
from segloc.pretrain.data import StepBatchSampler, build_pairs, make_loader
from segloc.pretrain.trainer import _to, step_generator
from segloc.synthesis.dataset import white_value

torch.set_num_threads(1)
batches = int(sys.argv[1])
for path in sys.argv[2:]:
    state = torch.load(path, weights_only=True, map_location="cpu")
    config = PretrainConfig.from_saved(state["config"])
    config.data.workers = 0
    dataset, classes = build_pairs(config.data, 999)
    model = build_model(config, classes, white_value())
    model.load_state_dict(state["model"])
    model.train()
    rows = []
    with torch.no_grad():
        for step, batch in enumerate(make_loader(dataset, StepBatchSampler(len(dataset), 16, 999, 0, batches, 0, 1), 0)):
            q, k = _to(batch["view1"], torch.device("cpu"), False), _to(batch["view2"], torch.device("cpu"), False)
            keys = model.encode_keys(k["image"], k["box"], 2, step_generator(999, step))
            loss, stats = model(q["image"], q["box"], q["label"], keys)
            levels = [n[5:] for n in stats if n.startswith("rank_")]
            rows.append((float(loss), sum(float(stats[f"rank_{l}"]) for l in levels) / len(levels),
                         sum(float(stats[f"std_{l}"]) for l in levels) / len(levels)))
    n = len(rows)
    print(path, state["step"], config.method, "loss %.3f rank %.3f std %.3f" % tuple(sum(r[i] for r in rows) / n for i in range(3)), flush=True)
