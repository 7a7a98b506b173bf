"""One-off check outside the product: the first steps of a pretraining config, by hand, with one head change.

Trains the query encoder with SGD (momentum 0.9, Nesterov, weight decay 1e-4) at LR per step (batch 16,
linear warm-up over 10 steps), keys from the momentum encoder in two shuffled groups, and prints the loss,
the contrastive top-1 and the collapse monitor (``std`` of level p2) every 5 steps. VARIANT is a
'-'-joined set of:

- ``xavier``: InsLoc's reference head init (fc layers Xavier-uniform, zero biases; projection N(0, 0.01));
- ``fcbn``: BatchNorm1d after each of the two fully-connected layers (``head.fc_norm``);
- ``center``: no ReLU after the head's last convolution, fc1's input then centred per channel (``head.centred``);
- ``noconv1``: the trunk's first convolution frozen;
- ``outbn``: BatchNorm1d (no affine) on the 128-d projection, before the L2 normalisation (``head.out_norm``);
- ``same``: the key is made from the query's own view (a trivially solvable pretext);
- ``noprefill``: random queues (InsLoc's), not the 25 batches of keys it otherwise enqueues first;
- ``which``: after 4 steps, put each module's initial weights back in turn and print the positive
  cosine (level p2) on a fresh batch: which module's change lost the positives;
- anything else (e.g. ``base``): the config's head.

    python head_screen.py RUN/pretrain/segloc/config.yaml VARIANT LR STEPS [BATCH] [KEY=VALUE ...]

BATCH (default 16) pairs per step; the pairs are the config's, in order (the queues' first keys come from
pairs 640-1039, so a larger batch needs ``noprefill``). KEY=VALUE overrides a config key, as ``--set``;
``save=PATH`` writes the query encoder's backbone there at the end (``segloc probe`` reads it). The
environment variable ``THREADS`` sets torch's threads (default 1).
"""

from __future__ import annotations

import copy
import os
import sys
import time

import torch
from torch import nn

from segloc.config import load_config
from segloc.models import save_backbone
from segloc.pretrain.builder import build_model
from segloc.pretrain.config import PretrainConfig
from segloc.pretrain.data import build_pairs
from segloc.synthesis.dataset import collate_pairs, white_value


def batch(ds, index: int, size: int = 16) -> dict:
    """The ``index``-th batch of ``size`` pairs."""
    return collate_pairs([ds[i] for i in range(size * index, size * index + size)])


def positive_cosine(model, views: dict, keys: dict) -> float:
    """Mean cosine of queries and their keys on level p2."""
    with torch.no_grad():
        return float((model.encoder_q(views["image"], views["box"])["p2"] * keys["p2"]).sum(1).mean())


def modules(names) -> list[str]:
    """The modules (first three name parts, e.g. ``backbone.body.layer1``) that parameters ``names`` belong to."""
    return sorted({".".join(name.split(".")[:3]) for name in names})


def inside(name: str, module: str | None) -> bool:
    """Whether parameter ``name`` belongs to ``module`` (every parameter when None)."""
    return module is None or name == module or name.startswith(module + ".")


def head_overrides(variant: str) -> list[str]:
    """The product's head options (``head.*`` config keys) that VARIANT's ``center``, ``fcbn``, ``outbn`` name."""
    options = {"center": "head.centred", "fcbn": "head.fc_norm", "outbn": "head.out_norm"}
    return [f"{key}=true" for part, key in options.items() if part in variant.split("-")]


def apply_variant(model, variant: str) -> None:
    """Give the query encoder's head InsLoc's reference init when VARIANT says ``xavier``, then copy it into the key encoder."""
    head = model.encoder_q.head
    if "xavier" in variant:
        for layer in head.fcs:
            if isinstance(layer, nn.Linear):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
        nn.init.normal_(head.proj.weight, 0, 0.01)
        nn.init.zeros_(head.proj.bias)
    model.encoder_k = copy.deepcopy(model.encoder_q).requires_grad_(False)


def prefill(model, ds) -> None:
    """Fill the queues with the keys of batches 40-64 (pairs 640-1039), as the pretraining's initialisation."""
    with torch.no_grad():
        for s in range(40, 65):
            views = batch(ds, s)["view2"]
            keys = model.encode_keys(views["image"], views["box"], 2, torch.Generator().manual_seed(s))
            model.enqueue(keys, views["label"])


def main() -> None:
    config_path, variant, base, steps = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    extra = sys.argv[5:]
    size = int(extra.pop(0)) if extra and "=" not in extra[0] else 16
    save = next((item.split("=", 1)[1] for item in extra if item.startswith("save=")), None)
    extra = [item for item in extra if not item.startswith("save=")]
    torch.set_num_threads(int(os.environ.get("THREADS", "1")))
    config = load_config(config_path, PretrainConfig, ["data.workers=0", *head_overrides(variant), *extra])
    ds, classes = build_pairs(config.data, 5)
    torch.manual_seed(0)
    model = build_model(config, classes, white_value()).train()
    apply_variant(model, variant)
    if "noprefill" not in variant:
        prefill(model, ds)
    if "noconv1" in variant:
        model.encoder_q.backbone.body.conv1.requires_grad_(False)
    initial = copy.deepcopy(model.encoder_q.state_dict())
    params = [p for p in model.encoder_q.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=base, momentum=0.9, nesterov=True, weight_decay=1e-4)
    print(variant, "lr per step", base, "batch", size, flush=True)
    start = time.time()
    for step in range(1, (4 if "which" in variant else steps) + 1):
        for group in opt.param_groups:
            group["lr"] = base * min(1.0, 0.001 + step / 10)
        pairs = batch(ds, step, size)
        views, key_views = pairs["view1"], pairs["view1" if "same" in variant else "view2"]
        model.momentum_update()
        keys = model.encode_keys(key_views["image"], key_views["box"], 2, torch.Generator().manual_seed(step))
        loss, stats = model(views["image"], views["box"], views["label"], keys)
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.enqueue(keys, views["label"])
        if step % 5 == 0 or step == 1 or "which" in variant:
            print(
                f"step {step:3d} loss {loss.item():.2f} acc {stats['acc_p2'].item():.2f} "
                f"std {stats['std_p2'].item():.4f} ({time.time() - start:.0f}s)",
                flush=True,
            )
    if save:
        save_backbone(model.encoder_q.backbone, save)
        print("saved", save, flush=True)
    if "which" in variant:
        views = batch(ds, 9)["view1"]
        with torch.no_grad():
            keys = model.encode_keys(views["image"], views["box"], 2, torch.Generator().manual_seed(9))
        trained = copy.deepcopy(model.encoder_q.state_dict())
        print(f"trained: positive cosine {positive_cosine(model, views, keys):.3f}")
        for module in modules(trained):
            model.encoder_q.load_state_dict({n: initial[n] if inside(n, module) else t for n, t in trained.items()})
            print(f"initial {module}: positive cosine {positive_cosine(model, views, keys):.3f}")
        model.encoder_q.load_state_dict(initial)
        print(f"all initial: positive cosine {positive_cosine(model, views, keys):.3f}")


if __name__ == "__main__":
    main()
