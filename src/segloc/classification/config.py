"""Typed configuration of a CHR run (YAML under ``configs/chr/``, ``--set section.key=value``).

Defaults follow the authors' code (MeioJane/CHR): SGD lr 0.01, momentum 0.9, weight decay 1e-4,
constant learning rate, 15 epochs, training warp 256 + random 224 crop, test warp 224.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from segloc.classification.chr import BACKBONES, VARIANTS
from segloc.config import Config
from segloc.evaluation.voc_ap import AP_METHODS


class ModelSection(Config):
    backbone: str = "resnet34"
    variant: str = "chr"
    weights: str | None = None  # optional local backbone file (torchvision or segloc layout)
    threshold: float = -20.0  # class-balanced loss: negatives with logit below this are masked
    hierarchical_mask: bool = True  # a class masked at a level stays masked below it

    @field_validator("backbone")
    @classmethod
    def _known_backbone(cls, value: str) -> str:
        if value not in BACKBONES:
            raise ValueError(f"unknown backbone {value!r}; expected one of {', '.join(BACKBONES)}")
        return value

    @field_validator("variant")
    @classmethod
    def _known_variant(cls, value: str) -> str:
        if value not in VARIANTS:
            raise ValueError(f"unknown variant {value!r}; expected one of {', '.join(VARIANTS)}")
        return value


class DataSection(Config):
    root: str | None = None  # the SIXray folder (``--data``)
    subset: str = "10"  # ImageSet/<subset>/{train,test}.csv
    image_size: int = Field(224, ge=32)
    resize: int = Field(256, ge=32)  # training warp size before the random crop
    workers: int = Field(4, ge=0)
    sampler: Literal["uniform", "weighted"] = "uniform"  # weighted: equal mass per class + negatives
    pos_weight: bool = False  # per-class BCE pos_weight = negatives / positives
    skip_bad: bool = False  # skip bad label rows and unreadable images with one warning (--skip-bad)

    @field_validator("subset", mode="before")
    @classmethod
    def _subset_text(cls, value: object) -> str:
        return str(value)


class OptimSection(Config):
    epochs: int = Field(15, ge=1)
    max_steps: int | None = Field(None, ge=1)  # stop earlier than epochs x steps-per-epoch
    batch_size: int = Field(16, ge=1)  # per process
    lr: float = Field(0.01, gt=0)
    momentum: float = 0.9
    weight_decay: float = 1e-4
    milestones: list[int] = Field(default_factory=list)  # epochs at which lr is multiplied by gamma
    gamma: float = 0.1
    warmup_steps: int = Field(0, ge=0)


class RunSection(Config):
    seed: int = 0
    device: str = "auto"  # auto, cpu, cuda
    amp: bool = True  # mixed precision on CUDA (bf16 where supported, else fp16 + GradScaler)
    threads: int | None = Field(None, ge=1)  # torch CPU threads
    checkpoint_every: int = Field(500, ge=1)  # steps
    keep_checkpoints: int = Field(2, ge=1)
    log_every: int = Field(20, ge=1)
    evaluate: bool = True  # evaluate on the test split at the end of training
    eval_batch_size: int = Field(32, ge=1)
    ap_method: str = "reference"
    pointing_tolerance: float = Field(0.0, ge=0)

    @field_validator("ap_method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value not in AP_METHODS:
            raise ValueError(f"unknown AP method {value!r}; expected one of {', '.join(AP_METHODS)}")
        return value


class ChrConfig(Config):
    """The whole run: model, data, optimisation, run mechanics."""

    model: ModelSection = Field(default_factory=ModelSection)
    data: DataSection = Field(default_factory=DataSection)
    optim: OptimSection = Field(default_factory=OptimSection)
    run: RunSection = Field(default_factory=RunSection)
