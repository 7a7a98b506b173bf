"""Typed configuration of a CHR run (YAML under ``configs/chr/``, ``--set section.key=value``).

Defaults follow the authors' code (MeioJane/CHR): SGD lr 0.01, momentum 0.9, weight decay 1e-4,
constant learning rate, 15 epochs, training warp 256 + random 224 crop, test warp 224. ``optim`` and
``train`` are the sections every segloc training config shares (``segloc.engine.config``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from segloc.classification.chr import BACKBONES, VARIANTS
from segloc.config import Config
from segloc.engine.config import OptimConfig, TrainConfig
from segloc.evaluation.voc_ap import AP_METHODS


class ModelSection(Config):
    arch: str = "resnet34"  # the trunk: a ResNet (the shared backbone spec's arch) or densenet121 / inception_v3
    variant: str = "chr"
    weights: str | None = None  # optional local backbone file (torchvision or segloc layout)
    threshold: float = -20.0  # class-balanced loss: negatives with logit below this are masked
    hierarchical_mask: bool = True  # a class masked at a level stays masked below it

    @field_validator("arch")
    @classmethod
    def _known_arch(cls, value: str) -> str:
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


class ChrOptim(OptimConfig):
    """The authors' constant lr 0.01 (no scaling with the batch), no clipping."""

    lr: float = Field(0.01, gt=0.0)


class ChrTrain(TrainConfig):
    """15 epochs of 16 images (global batch), bf16 AMP on GPU (fp16 where bf16 is missing)."""

    batch_size: int = Field(16, gt=0)
    epochs: float = Field(15.0, gt=0.0)
    amp: Literal["none", "bf16", "fp16"] = "bf16"
    checkpoint_every: int = Field(500, gt=0)


class EvalSection(Config):
    """Evaluation on the test split after training."""

    enabled: bool = True
    batch_size: int = Field(32, ge=1)
    ap_method: str = "reference"
    pointing_tolerance: float = Field(0.0, ge=0)

    @field_validator("ap_method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value not in AP_METHODS:
            raise ValueError(f"unknown AP method {value!r}; expected one of {', '.join(AP_METHODS)}")
        return value


class ChrConfig(Config):
    """The whole run: model, data, optimisation, run mechanics, evaluation."""

    model: ModelSection = Field(default_factory=ModelSection)
    data: DataSection = Field(default_factory=DataSection)
    optim: ChrOptim = Field(default_factory=ChrOptim)
    train: ChrTrain = Field(default_factory=ChrTrain)
    eval: EvalSection = Field(default_factory=EvalSection)

    RENAMED = {
        "model.backbone": "model.arch",
        "optim.epochs": "train.epochs",
        "optim.max_steps": "train.steps",
        "optim.batch_size": "train.batch_size",
        **{
            f"run.{key}": f"train.{key}"
            for key in ("seed", "device", "amp", "threads", "checkpoint_every", "keep_checkpoints", "log_every")
        },
        "run.evaluate": "eval.enabled",
        "run.eval_batch_size": "eval.batch_size",
        "run.ap_method": "eval.ap_method",
        "run.pointing_tolerance": "eval.pointing_tolerance",
    }
