"""One-off check outside the product: one plain SGD step on one batch, at several lrs, from the same init.

Builds SegLoc's pretraining model from CONFIG (seed 0, queues filled with 25 batches of keys), takes the
first batch of 16 pairs, and prints:

- the fc1 gradient's share in its top singular direction and that direction's cosine with the mean input
  of fc1 (the 7x7x256 -> 1024 layer): how much of the step moves every embedding the same way;
- for each lr, the same batch's loss after one step of ``-lr * grad`` (keys and queues fixed): a loss
  that rises means the step is past the region where the gradient describes the loss;
- with ``which`` in VARIANT: the same at lr 3e-4 with one module stepped at a time, beside the linear
  prediction ``-lr * |grad|^2`` of that module.

VARIANT is a '-'-joined set of ``same`` (key from the query's own view), ``center`` (no ReLU after the
head's last conv), ``fcbn`` (BatchNorm after both fc layers), ``outbn`` (BatchNorm, no affine, on the
projection), ``which``; anything else (``base``) is the config's head.

    python one_step.py RUN/pretrain/segloc/config.yaml VARIANT [THREADS]
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "head-screens-2026-12-04"))
from head_screen import apply_variant, batch, head_overrides, inside, modules, prefill  # noqa: E402

from segloc.config import load_config  # noqa: E402
from segloc.pretrain.builder import build_model  # noqa: E402
from segloc.pretrain.config import PretrainConfig  # noqa: E402
from segloc.pretrain.data import build_pairs  # noqa: E402
from segloc.synthesis.dataset import white_value  # noqa: E402

LRS = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.075)


def main() -> None:
    config_path, variant = sys.argv[1], sys.argv[2]
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    config = load_config(config_path, PretrainConfig, ["data.workers=0", *head_overrides(variant)])
    ds, classes = build_pairs(config.data, 5)
    torch.manual_seed(0)
    model = build_model(config, classes, white_value()).train()
    apply_variant(model, variant)
    prefill(model, ds)
    head = model.encoder_q.head
    pairs = batch(ds, 1)
    views, key_views = pairs["view1"], pairs["view1" if "same" in variant else "view2"]
    with torch.no_grad():
        keys = model.encode_keys(key_views["image"], key_views["box"], 2, torch.Generator().manual_seed(1))
    store = {}
    head.fcs[0].register_forward_hook(lambda m, i, o: store.__setitem__("x", i[0].detach()))
    initial = copy.deepcopy(model.encoder_q.state_dict())
    named = [(n, p) for n, p in model.encoder_q.named_parameters() if p.requires_grad]
    loss0, stats = model(views["image"], views["box"], views["label"], keys)
    loss0.backward()
    grads = [p.grad.clone() for _, p in named]
    x, g = store["x"], head.fcs[0].weight.grad
    _, s, vh = torch.linalg.svd(g, full_matrices=False)
    mean_x = x.mean(0)
    share, alignment = s[0] ** 2 / (s**2).sum(), abs(vh[0] @ mean_x / mean_x.norm())
    offset = mean_x.norm() / x.norm(dim=1).pow(2).mean().sqrt()
    print(
        f"{variant}: loss {loss0.item():.3f} std {stats['std_p2'].item():.3f}; fc1 gradient: top direction's share "
        f"{share.item():.3f}, its cosine with the mean input {alignment.item():.3f}; "
        f"|mean input| / rms |input| {offset.item():.3f}",
        flush=True,
    )

    def step_loss(lr: float, module: str | None = None) -> tuple[float, float]:
        """The batch's loss and ``std`` after one step of ``-lr * grad`` on ``module``'s parameters."""
        model.encoder_q.load_state_dict(initial)
        with torch.no_grad():
            for (n, p), gr in zip(named, grads):
                if inside(n, module):
                    p.sub_(lr * gr)
            loss, after = model(views["image"], views["box"], views["label"], keys)
        return loss.item(), after["std_p2"].item()

    for lr in LRS:
        loss, std = step_loss(lr)
        print(f"  lr {lr:8.5f}: loss {loss:8.3f} (change {loss - loss0.item():+.3f}) std {std:.3f}", flush=True)
    if "which" in variant:
        lr = 3e-4
        for module in modules(n for n, _ in named):
            squared = sum(float(gr.pow(2).sum()) for (n, _), gr in zip(named, grads) if inside(n, module))
            loss, _ = step_loss(lr, module)
            change = loss - loss0.item()
            print(f"  only {module:28s} lr {lr}: change {change:+.3f} (linear {-lr * squared:+.3f})", flush=True)


if __name__ == "__main__":
    main()
