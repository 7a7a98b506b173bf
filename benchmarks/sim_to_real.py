"""Sim-to-real: the same box-only detector trained on generated SIXray scans or on the real train split,
both evaluated on the real val split (AP50). Says whether the generator is a useful source of training data.

The real set is ``../shared/real-dev`` by default (sixray-det/annotations/{train,val}.json, box-only COCO:
Gun, Knife, Wrench; one labelled item per scan). The generated set holds --images SIXray-style scans with
one item each of the same three classes (class-balanced), written as box-only COCO. Both runs use the
fine-tuning CPU demo recipe (Cascade R-CNN, ResNet-18 from random) with the same budget: one epoch over
--images scans, batch 2 (--images / 2 steps) at a longer side of --size px. Real train scans are resized
once to 384 px as ``segloc experiment --config real-sixray`` does; val is read as released. Prints one JSON.

    python benchmarks/sim_to_real.py [--real ../shared/real-dev] [--out runs/sim-to-real] [--images 600]
                                     [--size 256] [--seed 0] [--sources generated real]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from segloc.config import find_config, load_config
from segloc.data.resize import resize_coco
from segloc.detection.config import FinetuneConfig
from segloc.detection.train import finetune
from segloc.generator.box_set import write_box_set

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-dev"
CLASSES = ("Gun", "Knife", "Wrench")  # the real set's classes, in its category-id order
CACHE_SIDE = 384


def train_and_evaluate(
    name: str, labels: Path, images: Path, real: Path, out: Path, count: int, size: int, seed: int
) -> dict:
    """Fine-tune the CPU demo detector on one training set for one epoch of `count` scans; real val AP50."""
    overrides = [
        "init=random",
        f"init_name={name}",
        "data.root=null",
        f"data.train.labels={labels}",
        f"data.train.images={images}",
        f"data.test.val.labels={real / 'sixray-det/annotations/val.json'}",
        f"data.test.val.images={real / 'sixray-det/val'}",
        f"data.max_train_images={count}",
        f"model.image_size={size}",
        "model.rpn_channels=64",
        "model.roi_batch_per_image=64",
        "train.epochs=1",
        "train.lr_steps=[1]",
        "train.warmup_iters=50",
        "train.log_every=20",
        f"train.seed={seed}",
    ]
    cfg = load_config(find_config("configs/finetune/cpu-demo.yaml", "finetune"), FinetuneConfig, overrides)
    start = time.perf_counter()
    run = finetune(cfg, out / name, overwrite=True, progress=False)
    bbox = json.loads((run / "eval" / "metrics.json").read_text())["splits"]["val"]["bbox"]
    return {
        "AP50": round(bbox["AP50"], 4),
        "AP": round(bbox["AP"], 4),
        "run": str(run),
        "minutes": round((time.perf_counter() - start) / 60, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=REAL)
    parser.add_argument("--out", type=Path, default=Path("runs/sim-to-real"))
    parser.add_argument("--images", type=int, default=600, help="training scans per source (one epoch, batch 2)")
    parser.add_argument("--size", type=int, default=256, help="detector input, longer side in px")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", nargs="+", choices=("generated", "real"), default=["generated", "real"])
    args = parser.parse_args()
    sets = {}
    if "generated" in args.sources:
        sets["generated"] = (
            write_box_set(args.out / "data" / "generated", CLASSES, args.images, args.seed),
            args.out / "data" / "generated" / "images",
        )
    if "real" in args.sources:
        cache = args.out / "data" / "real-train"
        sets["real"] = (
            resize_coco(
                args.real / "sixray-det/annotations/train.json",
                args.real / "sixray-det/train",
                cache / "train.json",
                cache / "images",
                CACHE_SIDE,
            ),
            cache / "images",
        )
    results = {
        name: train_and_evaluate(name, labels, images, args.real, args.out, args.images, args.size, args.seed)
        for name, (labels, images) in sets.items()
    }
    print(
        json.dumps(
            {
                "benchmark": "sim_to_real",
                "val": str(args.real / "sixray-det/val"),
                "budget": {
                    "steps": args.images // 2,
                    "batch": 2,
                    "image_size": args.size,
                    "model": "cascade r-cnn, resnet-18, random init (configs/finetune/cpu-demo.yaml)",
                },
                **results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
