"""Sim-to-real: the same box-only detector trained on generated SIXray scans or on the real train split,
both evaluated on the real val split (AP50). Says whether the generator is a useful source of training data.

The real set is ``../shared/real-dev`` by default (sixray-det/annotations/{train,val}.json, box-only COCO:
Gun, Knife, Wrench; one labelled item per scan). The generated set holds as many SIXray-style scans as the
real train split, one item each of the real set's classes (class-balanced), written as box-only COCO. Both
runs use the fine-tuning recipe and budget of ``segloc experiment --config real-sixray`` (its finetune
config and overrides, random init). The real train and val scans are resized once to the experiment's
``cache_side`` (the detector sees 256 px either way). Prints one JSON.

    python benchmarks/sim_to_real.py [--real ../shared/real-dev] [--out runs/sim-to-real] [--seed 0]
                                     [--sources generated real] [--set finetune.overrides=[...]]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from segloc.config import find_config, load_config
from segloc.data import load_coco
from segloc.data.resize import resize_coco
from segloc.data.sixray_det import sixray_det_split
from segloc.detection.config import FinetuneConfig
from segloc.detection.train import finetune
from segloc.engine.machine import machine_info
from segloc.experiment import ExperimentConfig
from segloc.generator.box_set import write_box_set

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-dev"


def train_and_evaluate(
    name: str, train: tuple[Path, Path], val: tuple[Path, Path], experiment: ExperimentConfig, out: Path, seed: int
) -> dict:
    """Fine-tune the experiment's detector from random init on one training set; its real val box AP."""
    spec = experiment.finetune
    overrides = [
        "init=random",
        f"init_name={name}",
        "data.root=null",
        f"data.train.labels={train[0]}",
        f"data.train.images={train[1]}",
        f"data.test.val.labels={val[0]}",
        f"data.test.val.images={val[1]}",
        f"train.seed={seed}",
        "train.progress=false",
        *spec.overrides,
    ]
    cfg = load_config(find_config(spec.config, "finetune"), FinetuneConfig, overrides)
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
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", nargs="+", choices=("generated", "real"), default=["generated", "real"])
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="real-sixray experiment key")
    args = parser.parse_args()
    experiment = load_config(
        find_config("real-sixray", "experiment"), ExperimentConfig, [f"data.real={args.real}", *args.overrides]
    )
    side, cache = experiment.data.cache_side, args.out / "data" / "real"
    resized = {
        split: (
            resize_coco(*sixray_det_split(args.real, split), cache / f"{split}.json", cache / split, side),
            cache / split,
        )
        for split in ("train", "val")
    }
    sets = {}
    if "generated" in args.sources:
        train = load_coco(*resized["train"], check_images="none")
        classes = tuple(train.categories[i] for i in train.category_ids)
        generated = args.out / "data" / "generated"
        sets["generated"] = (write_box_set(generated, classes, len(train), args.seed), generated / "images")
    if "real" in args.sources:
        sets["real"] = resized["train"]
    results = {
        name: train_and_evaluate(name, train, resized["val"], experiment, args.out, args.seed)
        for name, train in sets.items()
    }
    recipe = load_config(
        find_config(experiment.finetune.config, "finetune"), FinetuneConfig, experiment.finetune.overrides
    )
    print(
        json.dumps(
            {
                "benchmark": "sim_to_real",
                "machine": machine_info(),
                "val": str(sixray_det_split(args.real, "val")[1]),
                "budget": {
                    "epochs": recipe.train.epochs,
                    "batch": recipe.train.batch_size,
                    "image_size": recipe.model.image_size,
                    "recipe": f"{experiment.finetune.config} + real-sixray finetune.overrides, random init",
                },
                **results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
