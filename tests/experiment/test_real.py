"""The real-SIXray protocol (``real-sixray``) end to end at a tiny size on a box-only layout built from
generated scans; the real development set's layout when it is beside the repository."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from segloc.config import load_config
from segloc.data import load_coco
from segloc.detection.config import FinetuneConfig
from segloc.experiment import ExperimentConfig, find_config, run_experiment

REAL_DEV = Path(__file__).resolve().parents[2].parent / "shared" / "real-dev"


def _config(real: Path, out: Path, tiny: dict[str, list[str]]) -> ExperimentConfig:
    overrides = [
        f"data.real={real}",
        "data.cache_side=200",
        "pretrain.methods=[insloc, segloc]",
        "pretrain.start_from={segloc: insloc}",
        f"pretrain.overrides={tiny['pretrain'] + ['data.canvas=96', 'data.crop_side=[48, 95]']}",
        f"chr.overrides={tiny['chr']}",
        "finetune.inits=[random, segloc, insloc, chr]",
        "finetune.seeds={random: [1], segloc: [2]}",
        f"finetune.overrides={tiny['finetune']}",
        "finetune.pretrained_overrides=[optim.backbone_lr_factor=0.5]",
        "report.gallery_pairs=2",
        "report.detection_images=2",
        "probe.width=96",
        f"out={out}",
    ]
    return load_config(find_config("real-sixray"), ExperimentConfig, overrides)


def test_real_protocol_end_to_end_and_test_split_only_evaluated(tiny_real, tmp_path, tiny_overrides):
    run = run_experiment(_config(tiny_real, tmp_path / "run", tiny_overrides))
    report = json.loads((run / "report.json").read_text())
    runs = {"random", "random-seed1", "segloc", "segloc-seed2", "insloc", "chr"}
    assert set(report["per_split"]) == runs
    for name in runs:
        metrics = json.loads((run / "finetune" / name / "eval" / "metrics.json").read_text())
        assert set(metrics["splits"]) == {"val", "test"} and "bbox" in metrics["splits"]["val"]
        for split in ("val", "test"):
            ids = {
                r.id
                for r in load_coco(
                    tiny_real / "sixray-det" / "annotations" / f"{split}.json", tiny_real / "sixray-det" / split
                ).images
            }
            detections = json.loads((run / "finetune" / name / "eval" / split / "detections.json").read_text())
            assert {d["image_id"] for d in detections} <= ids
    entry = report["per_split"]["segloc"]["val"]["AP50"]
    random_runs = [report["per_split"][r]["val"]["AP50"]["value"] for r in ("random", "random-seed1")]
    assert entry["spread"] == pytest.approx(max(random_runs) - min(random_runs))
    assert entry["vs_random"] == pytest.approx(entry["value"] - sum(random_runs) / 2)
    seeded_cfg = load_config(run / "finetune" / "segloc-seed2" / "config.yaml", FinetuneConfig)
    assert seeded_cfg.train.seed == 2 and str(seeded_cfg.init).endswith("pretrain/segloc/backbone.safetensors")
    segloc_runs = [report["per_split"][r]["val"]["AP50"]["value"] for r in ("segloc", "segloc-seed2")]
    seeded = report["per_init"]["segloc"]["val"]["AP50"]
    assert seeded["runs"] == 2 and seeded["mean"] == pytest.approx(sum(segloc_runs) / 2)
    assert seeded["spread"] == pytest.approx(max(segloc_runs) - min(segloc_runs))
    assert seeded["vs_random"] == pytest.approx(seeded["mean"] - sum(random_runs) / 2)
    assert report["per_init"]["insloc"]["val"]["AP50"]["runs"] == 1
    assert report["per_init"]["insloc"]["val"]["AP50"]["spread"] is None
    assert "figures/segments.png" in report["figures"] and "figures/pairs_segloc.png" in report["figures"]
    text = (run / "report.md").read_text()
    assert "## Box AP50 and AP per split" in text and "| chr |" in text and "Random-init seed spread" in text
    assert "Each init over its seeds" in text and "| segloc | 2 |" in text
    assert "segloc started from insloc's pretrained backbone" in text
    assert report["pretrain_start_from"] == {"segloc": "insloc"}

    # The test split is read by the evaluation alone: not cached, not in the probe, CHR, pretraining or training.
    test_names = {
        r.path.name
        for r in load_coco(
            tiny_real / "sixray-det" / "annotations" / "test.json", tiny_real / "sixray-det" / "test"
        ).images
    }
    assert not (run / "data" / "real" / "sixray-det" / "test").exists()
    assert set(json.loads((run / "probe.json").read_text())["random"]) == {"val"}
    for split in ("train", "test"):
        with open(run / "data" / "chr" / "ImageSet" / "real" / f"{split}.csv", newline="") as f:
            names = [row["name"] for row in csv.DictReader(f)]
        assert not any(n.startswith("test-") for n in names) and names
    train_json = str(run / "data" / "real" / "sixray-det" / "annotations" / "train.json")
    for name in runs:
        saved = yaml.safe_load((run / "finetune" / name / "config.yaml").read_text())
        assert saved["data"]["train"]["labels"] == train_json
        assert saved["optim"]["backbone_lr_factor"] == (1.0 if name.startswith("random") else 0.5)
    for method in ("segloc", "insloc"):
        saved = yaml.safe_load((run / "pretrain" / method / "config.yaml").read_text())
        assert saved["data"]["labelled"] == train_json and saved["data"]["refine_boxes"] is True
        started = str(run / "pretrain" / "insloc" / "backbone.safetensors") if method == "segloc" else None
        assert saved["backbone"]["weights"] == started
    cached = {p.name for p in (run / "data" / "real").rglob("*.jpg")} | {
        p.name for p in (run / "data" / "real").rglob("*.png")
    }
    assert not (
        cached
        & test_names
        - {p.name for p in (tiny_real / "sixray-det" / "train").iterdir()}
        - {p.name for p in (tiny_real / "sixray-det" / "val").iterdir()}
    )


def test_real_development_set_layout_loads():
    if not REAL_DEV.is_dir():
        pytest.skip(f"real development set not found at {REAL_DEV}")
    counts = {}
    for split in ("train", "val"):
        coco = load_coco(REAL_DEV / "sixray-det" / "annotations" / f"{split}.json", REAL_DEV / "sixray-det" / split)
        assert sorted(coco.categories.values()) == ["Gun", "Knife", "Wrench"] and not coco.has_masks
        counts[split] = len(coco.images)
    assert counts == {"train": 770, "val": 220}
    assert len(list((REAL_DEV / "backgrounds").glob("N*.jpg"))) == 420
