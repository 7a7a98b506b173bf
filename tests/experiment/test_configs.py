"""Every shipped experiment config, and each stage config its overrides make, loads and validates: a
typo in an override key of a config no test runs (the GPU ones) fails here, not on the user's GPU."""

from __future__ import annotations

import pytest

from segloc.classification.config import ChrConfig
from segloc.config import CONFIG_ROOTS, find_config, load_config
from segloc.detection.config import FinetuneConfig
from segloc.errors import ConfigError
from segloc.experiment import ExperimentConfig
from segloc.pretrain.config import PretrainConfig

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


def test_real_sixray_gpu_pretrains_with_the_heads_and_paste_measured_to_learn_on_real_scans():
    """SegLoc and InsLoc get the spread head and SegLoc alone the opaque paste (pretrain.method_overrides),
    the settings of docs/real-scans.md "Three times the length, pasted opaque"; MoCo's global head takes none."""
    cfg = _experiment("real-sixray-gpu")
    configs = {method: _pretrain(cfg, method) for method in cfg.pretrain.methods}
    for method in ("segloc", "insloc"):
        head = configs[method].head
        assert head.centred and head.fc_norm and head.out_norm
    assert configs["segloc"].data.composition[0] >= 0.95
    assert configs["insloc"].data.composition == configs["moco"].data.composition
    assert not configs["moco"].head.centred
    assert configs["moco"].optim.lr > configs["segloc"].optim.lr


def test_method_overrides_name_a_method():
    """A key of pretrain.method_overrides that is no method is an error naming it."""
    with pytest.raises(ConfigError, match="method_overrides.swav"):
        load_config(
            find_config("real-sixray"),
            ExperimentConfig,
            ["data.real=/data/real-sixray", "pretrain.method_overrides={swav: [train.steps=7]}"],
        )
