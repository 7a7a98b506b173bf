"""Scratch: SegLoc pretraining warm-started from an InsLoc checkpoint's whole encoders (trunk + head, query + key)."""
import sys
from pathlib import Path

import torch

from segloc.pretrain import trainer
from segloc.config import load_config
from segloc.pretrain.config import PretrainConfig

cfg_path, ckpt, out, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
config = load_config(cfg_path, PretrainConfig, [f"train.steps={steps}", "train.threads=2", *sys.argv[5:]])
state = torch.load(ckpt, weights_only=True, map_location="cpu")["model"]
query = {k: v for k, v in state.items() if k.startswith("encoder_q.")}
encoders = {**query, **{"encoder_k." + k[len("encoder_q.") :]: v for k, v in query.items()}}  # key = trained query
orig = trainer.PretrainTask.__init__


def init(self, *a, **k):
    orig(self, *a, **k)
    missing, unexpected = self.model.load_state_dict(encoders, strict=False)
    assert not unexpected, unexpected
    assert all(m.startswith("queues.") for m in missing), missing
    print("warm start from", ckpt, "missing", missing, flush=True)


trainer.PretrainTask.__init__ = init
trainer.pretrain(config, out)
