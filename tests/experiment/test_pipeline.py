"""The demo pipeline end to end at a very small size: every stage runs, the report is well-formed,
and a finished experiment is skipped on a re-run."""

from __future__ import annotations

import json
import math

import pytest

from segloc.config import load_config
from segloc.detection.config import FinetuneConfig
from segloc.errors import ConfigError, SeglocError
from segloc.experiment import ExperimentConfig, find_config, run_experiment
from segloc.experiment.pipeline import Experiment
from segloc.experiment.report import plateau_notes
from segloc.pretrain.config import PretrainConfig


def _config(generated_tiny, tmp_path, tiny, methods=("segloc", "insloc"), extra=()) -> ExperimentConfig:
    root = generated_tiny[0]
    overrides = [
        f"data.pidray={root / 'pidray'}",
        f"data.sixray={root / 'sixray'}",
        "data.generate=null",
        f"pretrain.methods={list(methods)}",
        f"pretrain.overrides={tiny['pretrain']}",
        f"finetune.inits={['random', *methods]}",
        f"finetune.overrides={tiny['finetune'] + ['data.max_train_images=6']}",
        "report.gallery_pairs=2",
        "report.detection_images=2",
        "probe.enabled=true",
        "probe.width=96",
        "probe.max_images=8",
        f"out={tmp_path / 'run'}",
        *extra,
    ]
    return load_config(find_config("demo"), ExperimentConfig, overrides)


def test_demo_pipeline_end_to_end(generated_tiny, tmp_path, tiny_overrides):
    cfg = _config(generated_tiny, tmp_path, tiny_overrides)
    run = run_experiment(cfg)
    report = json.loads((run / "report.json").read_text())
    assert set(report["summary"]) == {"random", "segloc", "insloc"}
    for init, entry in report["summary"].items():
        assert 0.0 <= entry["bbox"] <= 1.0 and 0.0 <= entry["segm"] <= 1.0
        if init != "random":
            assert math.isclose(entry["bbox_vs_random"], entry["bbox"] - report["summary"]["random"]["bbox"])
    probe = report["probe"]
    assert set(probe) == {"random", "segloc", "insloc"} and probe["random"]["mean_vs_random"] is None
    for init, entry in probe.items():
        assert all(0.0 <= entry[s] <= 1.0 for s in ("val", "easy", "hard", "hidden", "mean", "class_mean"))
        if init != "random":
            assert math.isclose(entry["mean_vs_random"], entry["mean"] - probe["random"]["mean"])
            assert math.isclose(entry["class_mean_vs_random"], entry["class_mean"] - probe["random"]["class_mean"])
    columns = report["table1"]["columns"]
    assert columns == [f"{t}/{s}" for t in ("bbox", "segm") for s in ("easy", "hard", "hidden")]
    assert len(report["table1"]["rows"]) == 3 * 6
    for name in (
        "figures/table1_ap.png",
        "figures/pretrain_curves.png",
        "figures/finetune_curves.png",
        "figures/pairs_segloc.png",
        "figures/pairs_insloc.png",
    ):
        assert name in report["figures"]
    assert all(report["stages"][s]["seconds"] >= 0 for s in ("data", "regions", "pretrain", "finetune", "evaluate"))
    assert math.isclose(report["total_seconds"], sum(s["seconds"] for s in report["stages"].values()))
    assert (
        report["total_seconds"]
        > report["stages"]["pretrain/segloc"]["seconds"] + report["stages"]["finetune/random"]["seconds"]
    )
    assert 0 < report["elapsed_seconds"]
    assert set(report["pretext"]) == {"segloc", "insloc"}
    for method, entry in report["pretext"].items():
        pre = load_config(run / "pretrain" / method / "config.yaml", PretrainConfig)
        levels = len(pre.head.levels or pre.backbone.fpn_levels)
        assert math.isclose(entry["chance"], levels * math.log(1 + pre.contrast.queue_size))
        assert entry["steps"] == pre.train.steps and 0.0 <= entry["acc"] <= 1.0 and entry["std"] >= 0.0
    text = (run / "report.md").read_text()
    assert "| segloc |" in text and "## Table 1" in text and "## kNN probe" in text
    assert "Sum of the stages' wall times" in text and "| method | steps | loss | chance |" in text
    assert "## Box AP50 per class" in text and report["per_class"]
    assert all(set(entry) == {"random", "segloc", "insloc"} for entry in report["per_class"].values())
    assert (run / "pretrain" / "segloc" / "backbone.safetensors").is_file()

    before = (run / "stages.json").read_text()
    run_experiment(cfg)  # everything done: nothing re-runs
    assert (run / "stages.json").read_text() == before
    more_at_once = cfg.model_copy(update={"finetune": cfg.finetune.model_copy(update={"parallel": 2})})
    run_experiment(more_at_once)  # how many runs share the machine is not part of the results
    assert (run / "stages.json").read_text() == before

    changed = cfg.model_copy(update={"seed": 1})
    with pytest.raises(SeglocError, match="different config"):
        run_experiment(changed)


def test_config_errors(generated_tiny, tmp_path, tiny_overrides):
    with pytest.raises(ConfigError, match="needs pretrain.methods"):
        load_config(find_config("demo"), ExperimentConfig, ["pretrain.methods=[]"])
    with pytest.raises(ConfigError, match="finetune.inits: List should have at least 1 item"):
        load_config(find_config("demo"), ExperimentConfig, ["finetune.inits=[]"])
    with pytest.raises(ConfigError, match="finetune.seeds names 'moco'"):
        load_config(find_config("demo"), ExperimentConfig, ["finetune.inits=[random]", "finetune.seeds={moco: [1]}"])
    with pytest.raises(ConfigError, match="finetune.seeds.random must differ"):
        load_config(find_config("demo"), ExperimentConfig, ["finetune.inits=[random]", "finetune.seeds={random: [0]}"])
    with pytest.raises(ConfigError, match="not found"):
        find_config("no-such-experiment")
    with pytest.raises(ConfigError, match="pretrain.start_from: segloc starts from insloc"):
        _config(generated_tiny, tmp_path, tiny_overrides, extra=["pretrain.start_from={segloc: insloc}"])
    with pytest.raises(ConfigError, match="pretrain.start_from: segloc starts from moco"):
        _config(generated_tiny, tmp_path, tiny_overrides, extra=["pretrain.start_from={segloc: moco}"])
    cfg = _config(generated_tiny, tmp_path, tiny_overrides)
    with pytest.raises(ConfigError, match="unknown stage"):
        run_experiment(cfg, from_stage="nonsense")


def test_start_from_gives_a_method_the_backbone_an_earlier_method_exports(generated_tiny, tmp_path, tiny_overrides):
    """SegLoc after InsLoc: SegLoc's pretraining config starts from the backbone file InsLoc's stage exports,
    InsLoc's from none."""
    cfg = _config(
        generated_tiny, tmp_path, tiny_overrides, ("insloc", "segloc"), ["pretrain.start_from={segloc: insloc}"]
    )
    experiment = Experiment(cfg, cfg.out)
    assert experiment._pretrain_config("insloc").backbone.weights is None
    exported = experiment.layout.pretrain_dir("insloc") / "backbone.safetensors"
    assert experiment._pretrain_config("segloc").backbone.weights == exported


def test_method_overrides_reach_their_method_alone(generated_tiny, tmp_path, tiny_overrides):
    """pretrain.method_overrides: SegLoc's own override follows the shared ones; InsLoc's config keeps the shared."""
    extra = ['pretrain.method_overrides={segloc: ["data.composition=[0.95, 1.0]", train.steps=3]}']
    cfg = _config(generated_tiny, tmp_path, tiny_overrides, ("segloc", "insloc"), extra)
    experiment = Experiment(cfg, cfg.out)
    segloc, insloc = experiment._pretrain_config("segloc"), experiment._pretrain_config("insloc")
    assert segloc.data.composition == (0.95, 1.0) and segloc.train.steps == 3
    assert insloc.data.composition != (0.95, 1.0) and insloc.train.steps != 3


def test_budget_series(generated_tiny, tmp_path, tiny_overrides):
    """Two budgets x two random seeds, fine-tuned two at a time in worker processes, through evaluation
    and report: separate schedules, every run recorded, a well-formed curve (json + figure) and a
    plateau note per run."""
    cfg = _config(generated_tiny, tmp_path, tiny_overrides, methods=())
    cfg = load_config(
        find_config("demo"),
        ExperimentConfig,
        [
            *[f"{k}={v}" for k, v in (("data.pidray", cfg.data.pidray), ("data.sixray", cfg.data.sixray))],
            "data.generate=null",
            "pretrain.methods=[]",
            "finetune.inits=[random]",
            "finetune.seeds={random: [1]}",
            "finetune.budgets=[2, 1]",
            "finetune.parallel=2",
            f"finetune.overrides={tiny_overrides['finetune'] + ['optim.milestones=[0.5]', 'eval.splits=[easy]']}",
            "probe.enabled=false",
            "report.detection_images=0",
            f"out={tmp_path / 'run'}",
        ],
    )
    exp = Experiment(cfg, tmp_path / "run")
    for stage in ("finetune", "evaluate", "report"):
        getattr(exp, stage)()
    run = exp.run
    names = {"random", "random-seed1", "random-e1", "random-seed1-e1"}
    assert {p.name for p in (run / "finetune").iterdir()} == names
    for name in names:
        assert exp.record.done(f"finetune/{name}") and exp.record.data[f"finetune/{name}"]["seconds"] > 0
        assert exp.record.outputs(f"finetune/{name}")["images_seen"] == (8 if name in ("random", "random-seed1") else 4)
    short = load_config(run / "finetune" / "random-e1" / "config.yaml", FinetuneConfig)
    longest = load_config(run / "finetune" / "random" / "config.yaml", FinetuneConfig)
    assert (short.train.epochs, short.optim.milestones) == (1, [0.5])
    assert (longest.train.epochs, longest.optim.milestones) == (2, [1.0])
    series = json.loads((run / "figures" / "ap_vs_budget.json").read_text())
    assert series["splits"] == ["easy"]
    entry = series["inits"]["random"]
    assert entry["epochs"] == [1, 2] and entry["images"] == [4, 8] and entry["seeds"] == 2
    for metric in ("AP", "AP50"):
        for low, mean, high in zip(entry[f"{metric}_min"], entry[metric], entry[f"{metric}_max"]):
            assert 0.0 <= low <= mean <= high <= 1.0
    assert set(series["rows"]) == {"random", "random-seed1"}
    report = json.loads((run / "report.json").read_text())
    assert "figures/ap_vs_budget.png" in report["figures"]
    assert set(report["plateau"]) == {"random", "random-seed1"}
    gaining = {"inits": {"random": {"last_gain": 0.5, "plateau": False}}, "plateau_gain": 0.1}
    notes = plateau_notes(exp.layout, ["random", "random-seed1"], gaining)
    assert notes["random"].startswith("not at a plateau: the longest budget adds +50% AP")
    assert notes["random-seed1"] == notes["random"] + "; random's series, its seeds averaged"
    assert "## Box AP against fine-tuning budget" in (run / "report.md").read_text()
