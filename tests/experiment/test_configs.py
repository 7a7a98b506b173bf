"""Every shipped experiment config, and each stage config its overrides make, loads and validates: a
typo in an override key of a config no test runs (the GPU ones) fails here, not on the user's GPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from segloc.classification.config import ChrConfig
from segloc.config import CONFIG_ROOTS, find_config, load_config
from segloc.detection.config import FinetuneConfig
from segloc.errors import ConfigError
from segloc.experiment import ExperimentConfig
from segloc.pretrain.config import PretrainConfig

MEASURED = Path(__file__).parents[2] / "benchmarks/results/real-sixray-cpu-2core"
EXPERIMENTS = sorted({p.stem for root in CONFIG_ROOTS for p in (root / "experiment").glob("*.yaml")})


def _experiment(name: str) -> ExperimentConfig:
    """The config as a user runs it: real-scan configs need the folder of the real set."""
    overrides = ["data.real=/data/real-sixray"] if name.startswith("real-") else []
    return load_config(find_config(name), ExperimentConfig, overrides)


def _finetune(cfg: ExperimentConfig, pretrained: bool = False) -> FinetuneConfig:
    """The detector config an experiment's fine-tuning runs start from (from random or a pretrained backbone)."""
    overrides = cfg.finetune.overrides + (cfg.finetune.pretrained_overrides if pretrained else [])
    return load_config(find_config(cfg.finetune.config, "finetune"), FinetuneConfig, overrides)


def _pretrain(cfg: ExperimentConfig, method: str) -> PretrainConfig:
    """The pretraining config an experiment builds for ``method``: its shared overrides, then its own."""
    return load_config(
        find_config(cfg.pretrain.configs[method], "pretrain"), PretrainConfig, cfg.pretrain.overrides_for(method)
    )


def test_the_shipped_experiment_configs_are_found():
    """Guards the parametrised test below against an empty glob."""
    assert {"demo", "cpu-small", "real-sixray", "real-sixray-gpu"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_config_and_its_stage_configs_validate(name: str):
    cfg = _experiment(name)
    for method in cfg.pretrain.methods:
        assert _pretrain(cfg, method).method == method
    assert _finetune(cfg).train.epochs > 0 and _finetune(cfg, pretrained=True).train.epochs > 0
    if cfg.chr.enabled:
        assert isinstance(load_config(find_config(cfg.chr.config, "chr"), ChrConfig, cfg.chr.overrides), ChrConfig)


def test_real_sixray_gpu_fine_tunes_with_the_recipe_that_works_on_real_scans():
    """The GPU config's detectors use the recipe measured to work on real scans on 2 CPU cores (12 epochs
    at 384 px, batch 4, lr x0.1 after 10): benchmarks/results/real-sixray-cpu-2core/finetune-384-12ep/."""
    cfg = _experiment("real-sixray-gpu")
    finetune = _finetune(cfg)
    assert (finetune.model.image_size, finetune.train.epochs, finetune.train.batch_size) == (384, 12, 4)
    assert finetune.optim.milestones == [10]
    assert find_config(cfg.finetune.config, "finetune").name == "cpu-demo.yaml"


@pytest.mark.parametrize("name", ["real-sixray", "real-sixray-gpu"])
def test_real_scan_configs_pretrain_with_the_heads_and_paste_measured_to_learn_on_real_scans(name: str):
    """SegLoc and InsLoc get the spread head and SegLoc alone the opaque paste (pretrain.method_overrides),
    the settings of docs/real-scans.md "Three times the length, pasted opaque"; MoCo's global head takes none."""
    cfg = _experiment(name)
    configs = {method: _pretrain(cfg, method) for method in cfg.pretrain.methods}
    for method in ("segloc", "insloc"):
        head = configs[method].head
        assert head.centred and head.fc_norm and head.out_norm
    assert configs["segloc"].data.composition[0] >= 0.95
    assert configs["insloc"].data.composition == configs["moco"].data.composition
    assert not configs["moco"].head.centred
    assert configs["moco"].optim.lr > configs["segloc"].optim.lr


def _settings(config: dict, ignore: set[str]) -> dict:
    """A config's settings as dotted keys, without those a run sets by itself (paths, seed, threads) and
    everything under them."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in _settings(value, set()).items()})
        else:
            flat[key] = value
    return {k: v for k, v in flat.items() if not any(k == i or k.startswith(f"{i}.") for i in ignore)}


@pytest.mark.parametrize(
    ("name", "method", "measured"),
    [
        ("real-sixray-long", "segloc", "finetune-384-12ep/pretrain-segloc-opaque-p4-1200steps"),
        ("real-sixray-long", "insloc", "finetune-384-12ep/pretrain-insloc-centred-bn-head-p4-1200steps"),
        ("real-sixray", "segloc", "spread-head/pretrain/segloc"),
        ("real-sixray", "insloc", "spread-head/pretrain/insloc"),
        ("real-sixray", "moco", "spread-head/pretrain/moco"),
    ],
)
def test_real_scan_configs_pretrain_as_the_measured_runs(name: str, method: str, measured: str):
    """A real-scan config's pretraining configs are those of the runs its header quotes, setting for setting."""
    ignore = {"data.pidray", "data.labelled", "data.images", "data.backgrounds", "data.background_glob", "data.regions",
              "data.source", "data.refine_boxes", "train.seed", "train.threads", "train.checkpoint_every",
              "train.keep_checkpoints"}  # fmt: skip
    built = _pretrain(_experiment(name), method).model_dump(mode="json")
    measured_config = yaml.safe_load((MEASURED / measured / "config.yaml").read_text())
    assert _settings(built, ignore) == _settings(measured_config, ignore)


def test_real_sixray_long_fine_tunes_as_the_measured_runs():
    """Its pretrained detectors fine-tune with the config of the measured SegLoc and InsLoc runs."""
    ignore = {"init", "init_name", "data.root", "data.train", "data.test", "data.workers", "train.seed",
              "train.threads"}  # fmt: skip
    built = _finetune(_experiment("real-sixray-long"), pretrained=True).model_dump(mode="json")
    measured = yaml.safe_load((MEASURED / "finetune-384-12ep/segloc-opaque-1200steps-p4f4" / "config.yaml").read_text())
    assert _settings(built, ignore) == _settings(measured, ignore)


def test_method_overrides_name_a_method():
    """A key of pretrain.method_overrides that is no method is an error naming it."""
    with pytest.raises(ConfigError, match="method_overrides.swav"):
        load_config(
            find_config("real-sixray"),
            ExperimentConfig,
            ["data.real=/data/real-sixray", "pretrain.method_overrides={swav: [train.steps=7]}"],
        )
