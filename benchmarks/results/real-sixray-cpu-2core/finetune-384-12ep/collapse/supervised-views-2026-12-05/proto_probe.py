"""Scratch: SegLoc's query encoder trained with a supervised class signal on SegLoc's own views.

Each view's embedding (per level) is scored against three learned unit class prototypes at the
pretraining temperature; cross-entropy on the view's class. Same pairs, encoder, optimizer and lr as
the pretraining config: whether the views carry a class signal this trunk can learn at this length.
"""
import sys
import time

import torch
import torch.nn.functional as F

from segloc.config import load_saved_config
from segloc.engine.checkpoint import atomic_save
from segloc.pretrain.builder import build_model
from segloc.pretrain.config import PretrainConfig
from segloc.pretrain.data import StepBatchSampler, build_pairs, make_loader
from segloc.synthesis.dataset import white_value

config_path, steps, lr, prefix = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
torch.set_num_threads(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
config = load_saved_config(config_path, PretrainConfig)
torch.manual_seed(config.train.seed)
dataset, classes = build_pairs(config.data, config.train.seed)
model = build_model(config, classes, white_value())
model.train()
encoder = model.encoder_q
index = {c: i for i, c in enumerate(classes)}
prototypes = torch.nn.Parameter(F.normalize(torch.randn(len(classes), config.head.dim), dim=1))
params = list(encoder.parameters()) + [prototypes]
optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=1e-4, nesterov=True)
loader = make_loader(dataset, StepBatchSampler(len(dataset), 16, config.train.seed, 0, steps), 0)
window, start = [], time.time()
for step, batch in enumerate(loader, 1):
    for group in optimizer.param_groups:
        group["lr"] = lr * min(1.0, step / 10)
    target = torch.tensor([index[int(c)] for c in torch.cat([batch["view1"]["label"], batch["view2"]["label"]])])
    outs = [encoder(batch[v]["image"], batch[v]["box"]) for v in ("view1", "view2")]
    out = {level: torch.cat([o[level] for o in outs]) for level in outs[0]}
    loss = torch.zeros(())
    correct = 0.0
    for query in out.values():
        logits = query @ F.normalize(prototypes, dim=1).T / config.contrast.temperature
        loss = loss + F.cross_entropy(logits, target)
        correct += float((logits.argmax(1) == target).float().mean()) / len(out)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    window.append((float(loss.detach()) / len(out), correct))
    if step % 20 == 0:
        n = len(window)
        print(f"step {step} loss/level {sum(w[0] for w in window) / n:.3f} (chance {torch.log(torch.tensor(3.0)):.3f})"
              f" acc {sum(w[1] for w in window) / n:.3f} {time.time() - start:.0f}s", flush=True)
        window = []
    if step % 100 == 0:
        model.encoder_k.load_state_dict(encoder.state_dict())
        path = f"{prefix}-step{step}.pt"
        atomic_save({"config": config.model_dump(mode="json"), "model": model.state_dict(), "step": step}, path)
        print("saved", path, flush=True)
