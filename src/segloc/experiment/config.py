"""Experiment configuration (``configs/experiment/*.yaml``): data, methods, inits and report."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from segloc.config import Config
from segloc.pretrain.config import METHODS as PRETRAIN_METHODS
from segloc.pretrain.config import Method

STAGES = ("data", "regions", "synthesis", "pretrain", "chr", "probe", "finetune", "evaluate", "report")
INITS = ("random", *PRETRAIN_METHODS, "supervised", "chr")  # the fine-tuning inits an experiment compares


class GenerateSpec(Config):
    """Generate the built-in X-ray data into the run folder."""

    preset: Literal["tiny", "demo", "small", "medium"] = "tiny"
    seed: int = 0
    workers: int = Field(2, gt=0)


class DataSpec(Config):
    """Generated data, real PIDray (labelled) and SIXray (backgrounds) roots, or a real box-only SIXray set.

    ``real`` is a folder holding ``sixray-det/annotations/{train,val[,test]}.json`` with the images in
    ``sixray-det/{train,val,test}/`` (box-only COCO) and benign scans in ``backgrounds/``. Its train
    and val scans and the backgrounds are resized once into the run folder (longer side
    ``cache_side``); the test split is read only to evaluate the final detectors.
    """

    generate: GenerateSpec | None = None
    pidray: Path | None = None
    sixray: Path | None = None
    real: Path | None = None
    cache_side: int = Field(640, gt=0, description="longer side of the resized copies of real scans")
    background_glob: str = Field("N*", description="which SIXray images are backgrounds (benign scans)")

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        sources = [self.generate is not None, self.pidray is not None or self.sixray is not None, self.real is not None]
        if sum(sources) != 1:
            raise ValueError("set exactly one of data.generate, data.pidray + data.sixray, or data.real")
        if sources[1] and (self.pidray is None or self.sixray is None):
            raise ValueError("set both data.pidray and data.sixray")
        return self


class PretrainSpec(Config):
    """Which contrastive methods to pretrain, each from its own pretraining config file."""

    methods: list[Method] = Field(default_factory=lambda: list(PRETRAIN_METHODS))
    configs: dict[str, Path] = Field(default_factory=dict, description="method -> configs/pretrain/*.yaml")
    overrides: list[str] = Field(default_factory=list, description="--set overrides applied to every method")
    method_overrides: dict[Method, list[str]] = Field(
        default_factory=dict,
        description="method -> further --set overrides for that method alone, after pretrain.overrides "
        '(e.g. {segloc: ["data.composition=[0.95, 1.0]"]})',
    )
    start_from: dict[Method, Method] = Field(
        default_factory=dict,
        description="method -> an earlier method of pretrain.methods whose exported backbone it starts from "
        "(e.g. {segloc: insloc}: SegLoc's class pretext needs a trunk that already groups the items)",
    )

    def overrides_for(self, method: str) -> list[str]:
        """The --set overrides of ``method``'s pretraining config: the shared ones, then its own."""
        return [*self.overrides, *self.method_overrides.get(method, [])]

    @model_validator(mode="after")
    def _configs_given(self) -> PretrainSpec:
        missing = [m for m in self.methods if m not in self.configs]
        if missing:
            raise ValueError(f"pretrain.configs lacks a config file for {missing}")
        order = self.methods
        for method, source in self.start_from.items():
            if method not in order or source not in order or order.index(source) >= order.index(method):
                raise ValueError(
                    f"pretrain.start_from: {method} starts from {source}, so both must be in "
                    f"pretrain.methods with {source} first (methods: {order})"
                )
        return self


class ChrSpec(Config):
    """Optionally train the CHR classifier on SIXray and use its trunk as a domain-supervised init."""

    enabled: bool = False
    config: Path | None = None
    subset: str = "10"
    overrides: list[str] = Field(default_factory=list)


class ProbeSpec(Config):
    """kNN probe of every init's backbone on the labelled boxes (train split -> test splits)."""

    enabled: bool = True
    width: int = Field(320, gt=0, description="image width the boxes are pooled at")
    k: int = Field(20, gt=0)
    max_images: int | None = Field(None, gt=0, description="images per split (None: all)")
    holdout_every: int = Field(5, ge=2, description="every n-th train image is held out: the 'val' probe, to tune on")


class FinetuneSpec(Config):
    """The detector recipe and the initialisations compared under the same fine-tuning budget."""

    config: Path
    inits: list[str] = Field(
        default_factory=lambda: ["random", *PRETRAIN_METHODS],
        min_length=1,
        description="random, segloc, insloc, moco, supervised, chr (at least one: the report compares them)",
    )
    supervised: Path | None = Field(None, description="a torchvision ResNet weights file on disk")
    seeds: dict[str, list[int]] = Field(
        default_factory=dict,
        description="more runs of an init with these seeds (run <init>-seedN), for its spread; "
        "e.g. {random: [1, 2], segloc: [1, 2]}",
    )
    budgets: list[float] = Field(
        default_factory=list,
        description="AP-versus-budget series: fine-tune every run for each of these epoch "
        "counts, each its own schedule (the lr steps scaled with it)",
    )
    parallel: int = Field(
        1,
        ge=1,
        description="fine-tuning runs at once, each in its own process with an equal share of the torch "
        "threads (on 2 CPU cores, 2 runs of one thread train 1.2-1.4x faster than one of two; on a GPU the "
        "runs share it: worth it only for small detectors that leave it idle)",
    )
    overrides: list[str] = Field(default_factory=list)
    pretrained_overrides: list[str] = Field(
        default_factory=list,
        description="further overrides for the runs from a pretrained backbone (every init but random), "
        "e.g. [optim.backbone_lr_factor=0.1]: a random backbone has nothing to keep",
    )

    @model_validator(mode="after")
    def _budgets_valid(self) -> FinetuneSpec:
        if any(b <= 0 for b in self.budgets) or len(set(self.budgets)) < len(self.budgets):
            raise ValueError("finetune.budgets must be distinct positive numbers of epochs")
        return self


class ReportSpec(Config):
    gallery_pairs: int = Field(4, ge=0)
    detection_images: int = Field(4, ge=0)
    score_thr: float = 0.3


class ExperimentConfig(Config):
    """The whole protocol of the paper on one dataset (``segloc experiment --config``)."""

    name: str
    out: Path | None = Field(None, description="run folder; default runs/<name>")
    seed: int = 0
    data: DataSpec
    pretrain: PretrainSpec = Field(default_factory=PretrainSpec)
    chr: ChrSpec = Field(default_factory=ChrSpec)
    probe: ProbeSpec = Field(default_factory=ProbeSpec)
    finetune: FinetuneSpec
    report: ReportSpec = Field(default_factory=ReportSpec)

    @model_validator(mode="after")
    def _inits_available(self) -> ExperimentConfig:
        for init in self.finetune.inits:
            if init in PRETRAIN_METHODS and init not in self.pretrain.methods:
                raise ValueError(f"finetune init {init!r} needs pretrain.methods to include it")
            if init == "supervised" and self.finetune.supervised is None:
                raise ValueError("finetune init 'supervised' needs finetune.supervised (a weights file)")
            if init == "chr" and not self.chr.enabled:
                raise ValueError("finetune init 'chr' needs chr.enabled: true")
            if init not in INITS:
                raise ValueError(f"unknown finetune init {init!r}")
        for init, seeds in self.finetune.seeds.items():
            if init not in self.finetune.inits:
                raise ValueError(f"finetune.seeds names {init!r}, which is not in finetune.inits")
            if self.seed in seeds or len(set(seeds)) < len(seeds):
                raise ValueError(f"finetune.seeds.{init} must differ from each other and from the experiment's seed")
        return self
