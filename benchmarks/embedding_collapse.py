"""Whether a pretraining's embedding head learned its task or collapsed, against an untrained model.

For each pretraining checkpoint (``RUN/pretrain/<method>/checkpoints/step_*.pt``) and a fresh model of
the same config (the baseline, measured in the same run), embeds both views of ``--pairs`` SegLoc pairs
made from a labelled split (``--labelled``/``--images``, e.g. real val boxes, never a test split) on
benign backgrounds, with the query encoder in training mode (batch statistics, as in pretraining).
Reports per model: the embedding std (``segloc.pretrain.builder.embedding_std``: ~1 spread, 0
collapsed), the effective rank of the centred embeddings, the mean cosine distance of positive pairs
(two items of one class on two bags) and of random other-class pairs, and the positive's top-1 and
rank (share beaten, 0.5 at chance) among the other-class views. Prints one JSON object.

    python benchmarks/embedding_collapse.py CKPT [CKPT ...] --labelled VAL.json --images VAL_DIR \
        --backgrounds BG_DIR [--regions regions.json] [--pairs 96] [--composition 0.25 0.65]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from segloc.engine.checkpoint import load_checkpoint
from segloc.engine.machine import machine_info
from segloc.pretrain.builder import ContrastiveModel, build_model, embedding_std
from segloc.pretrain.config import PretrainConfig
from segloc.pretrain.loss import positive_rank
from segloc.synthesis.builder import build_sampler
from segloc.synthesis.dataset import collate_pairs, pair_item
from segloc.synthesis.pairs import SegLocConfig

GROUP = 8  # views per BatchNorm batch, as a key group of the pretraining recipes


def embed(model: ContrastiveModel, views: dict) -> torch.Tensor:
    """``[N, levels, dim]`` query embeddings of collated views, ``GROUP`` views per forward."""
    parts = []
    for start in range(0, views["image"].shape[0], GROUP):
        part = slice(start, start + GROUP)
        out = model.encoder_q(views["image"][part], views["box"][part])
        parts.append(torch.stack(list(out.values()), dim=1))
    return torch.cat(parts)


def effective_rank(embeddings: torch.Tensor) -> float:
    """exp(entropy) of the centred embeddings' normalised spectrum: 1 = one direction, dim = isotropic,
    0 = every embedding the same."""
    centred = embeddings - embeddings.mean(0)
    power = torch.linalg.svdvals(centred) ** 2
    if float(power.sum()) == 0.0:
        return 0.0
    p = power / power.sum()
    return float(torch.exp(-(p * p.clamp_min(1e-12).log()).sum()))


def measure(model: ContrastiveModel, batch: dict) -> dict[str, float]:
    """The collapse and pretext figures of one model on the collated pairs."""
    model.train()
    with torch.no_grad():
        first, second = embed(model, batch["view1"]), embed(model, batch["view2"])
    labels = batch["view1"]["label"]
    cosine = torch.einsum("ild,jld->ij", first, second) / first.shape[1]
    other = labels[:, None] != labels[None, :]
    positive = cosine.diag()
    top1 = (positive[:, None] > cosine.masked_fill(~other, -2.0)).all(1).float().mean()
    rank = positive_rank(torch.cat([positive[:, None], cosine], dim=1), negatives=other)
    flat = first.mean(1)
    return {
        "embedding_std": round(float(embedding_std(torch.nn.functional.normalize(flat, dim=1))), 4),
        "effective_rank": round(effective_rank(flat), 2),
        "positive_distance": float(f"{1 - positive.mean().item():.3g}"),
        "other_class_distance": float(f"{1 - cosine[other].mean().item():.3g}"),
        "positive_top1": round(float(top1), 3),
        "positive_rank": round(float(rank), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--labelled", type=Path, required=True)
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--backgrounds", type=Path, required=True)
    parser.add_argument("--regions", type=Path)
    parser.add_argument("--background-glob")
    parser.add_argument("--pairs", type=int, default=96)
    parser.add_argument("--width", type=int, default=256, help="background width of the pairs")
    parser.add_argument("--seed", type=int, default=777)
    parser.add_argument(
        "--composition", type=float, nargs=2, default=(0.25, 0.65), help="paste opacity range of the pairs"
    )
    args = parser.parse_args()
    sampler, manifest = build_sampler(
        "segloc",
        args.backgrounds,
        args.labelled,
        args.images,
        args.seed,
        args.regions,
        args.background_glob,
        SegLocConfig(target_width=args.width, composition=tuple(args.composition)),
        refine_boxes=True,
    )
    batch = collate_pairs([pair_item(sampler(i)) for i in range(args.pairs)])
    results, baselines = {}, {}
    for path in args.checkpoints:
        state = load_checkpoint(path)
        config = PretrainConfig.model_validate(state["config"])
        queued = state["model"].get("queues.classes")  # SegLoc: the class ids its queues were built for
        classes = queued.tolist() if queued is not None else sorted(int(c) for c in manifest["categories"])
        torch.manual_seed(args.seed)
        model = build_model(config, classes)
        key = json.dumps([config.model_dump(mode="json", include={"method", "backbone", "head"}), classes])
        if key not in baselines:  # checkpoints of one architecture share their untrained baseline
            baselines[key] = measure(model, batch)
        model.load_state_dict(state["model"])
        results[str(path)] = {
            "method": config.method,
            "step": int(state["step"]),
            "untrained": baselines[key],
            "trained": measure(model, batch),
        }
    report = {"pairs": args.pairs, "labelled": str(args.labelled), "models": results, "machine": machine_info()}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
