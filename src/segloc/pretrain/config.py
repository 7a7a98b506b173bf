"""Pretraining configuration (YAML under ``configs/pretrain/``), validated with pydantic.

``method`` is the one switch between the three models: ``segloc`` (RoI head, one queue per
class and level), ``insloc`` (RoI head, one queue per level) and ``moco`` (global pooling, one
queue). Everything else is spelled out in the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, model_validator

from segloc.config import Config
from segloc.engine.config import OptimConfig, TrainConfig
from segloc.models.spec import BackboneSpec
from segloc.synthesis.paste import PasteMode

Method = Literal["segloc", "insloc", "moco"]
METHODS: tuple[str, ...] = get_args(Method)  # the pretraining methods, in the papers' order


class BackboneConfig(BackboneSpec):
    """The network that is exported to the detector (the shared spec), plus what only pretraining sets."""

    fpn_levels: list[str] = Field(default_factory=lambda: ["p2", "p3", "p4", "p5"])
    checkpointing: bool = False
    weights: Path | None = None


class HeadConfig(Config):
    """Embedding head: InsLoc's RoI head (segloc, insloc) or MoCo v2's MLP (moco).

    ``levels``: pyramid levels the RoI head pools and embeds, one loss and queue each (default:
    all of the backbone's; e.g. P2-P5 as InsLoc while the backbone also makes P6 for SDANet).
    ``centred``, ``fc_norm``, ``out_norm``: the RoI head's changes against the collapse of its
    embeddings (models/heads.py); all three false is InsLoc's head.
    """

    levels: list[str] | None = None
    dim: int = Field(128, gt=0)
    roi_size: int = Field(7, gt=0)
    num_convs: int = Field(4, ge=0)
    fc_dim: int = Field(1024, gt=0)
    norm: Literal["bn", "syncbn", "gn"] = "bn"
    batch_levels: bool = True
    centred: bool = Field(False, description="RoI head: no ReLU after the last conv (fc1's input then centred)")
    fc_norm: bool = Field(False, description="RoI head: BatchNorm after each fully-connected layer")
    out_norm: bool = Field(False, description="RoI head: BatchNorm (no affine) on the projection, before L2")


class ContrastConfig(Config):
    """MoCo's momentum, temperature and the dictionary (queue size per queue, initialisation)."""

    momentum: float = Field(0.999, ge=0.0, le=1.0)
    temperature: float = Field(0.2, gt=0.0)
    queue_size: int = Field(65536, gt=0)
    queue_init: Literal["keys", "random"] = "random"
    init_max_steps: int | None = Field(None, gt=0)
    key_bn: Literal["shuffle", "sync", "plain"] = "shuffle"
    shuffle_groups: int = Field(1, gt=0)


class DataConfig(Config):
    """Where pairs come from: synthesised on the fly from folders, or offline shards.

    Segments (SegLoc) come from ``pidray`` (a PIDray root; its train split) or from a COCO
    ``labelled`` json with its ``images`` folder; InsLoc foregrounds from the same, or from every
    image under ``images``. ``backgrounds`` is a folder of benign scans (SIXray ``JPEGImage``: its
    ``N*`` scans unless ``background_glob`` says otherwise), ``regions`` its authentic-region cache
    (default: the folder's ``regions.json`` when ``segloc regions`` wrote one); ``refine_boxes`` cuts
    box-only segments to the item's silhouette. ``shards`` replaces all of these.
    ``target_width``: SegLoc pairs' width; ``composition``: the range the paste's composition
    coefficient is drawn from (the paper's U(0.25, 0.65)), ``paste_mode`` how it is applied;
    ``canvas``, ``crop_side``: InsLoc pairs' square side and the range of their pasted crops' sides.
    """

    source: Literal["synthesis", "shards"] = "synthesis"
    pairs: Literal["segloc", "insloc"] = "segloc"
    pidray: Path | None = None
    labelled: Path | None = None
    images: Path | None = None
    backgrounds: Path | None = None
    background_glob: str | None = Field(None, description="which backgrounds; default: the benign scans (N* in SIXray)")
    regions: Path | None = None
    refine_boxes: bool = Field(False, description="box-only segments refined to the item's silhouette")
    shards: Path | None = None
    pairs_per_epoch: int = Field(200_000, gt=0)
    target_width: int | None = Field(500, gt=0)
    composition: tuple[float, float] = (0.25, 0.65)
    paste_mode: PasteMode = "blend"
    canvas: int = Field(256, gt=0)
    crop_side: tuple[int, int] = (128, 255)
    workers: int = Field(2, ge=0)

    @model_validator(mode="after")
    def _sources(self) -> DataConfig:
        if not 0.0 < self.composition[0] <= self.composition[1] <= 1.0:
            raise ValueError(f"data.composition must be (low, high) with 0 < low <= high <= 1, got {self.composition}")
        if self.source == "shards" and self.shards is None:
            raise ValueError("data.source is 'shards' but data.shards is not set")
        if self.source == "synthesis" and self.backgrounds is None:
            raise ValueError("data.backgrounds (a folder of background scans) is required for synthesis")
        if (
            self.source == "synthesis"
            and self.pidray is None
            and self.labelled is None
            and not (self.pairs == "insloc" and self.images is not None)
        ):
            raise ValueError("set data.pidray, or data.labelled + data.images (InsLoc: data.images alone)")
        return self


class PretrainOptim(OptimConfig):
    """SGD with momentum, cosine schedule; lr 0.03 per 256 pairs (MoCo v2), scaled linearly to the batch."""

    lr: float = Field(0.03, gt=0.0)
    lr_batch: int | None = Field(256, gt=0)
    schedule: Literal["cosine", "multistep"] = "cosine"
    head_lr_factor: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="the embedding head's lr as a share of the backbone's (0: the head stays at its random "
        "init); for studying the head's collapse, which a lower share delays (docs/real-scans.md)",
    )


class PretrainTrain(TrainConfig):
    """Length, global batch of pairs, precision and bookkeeping."""

    batch_size: int = Field(64, gt=0)
    epochs: float = Field(30.0, gt=0.0)
    amp: Literal["none", "bf16", "fp16"] = "bf16"
    log_every: int = Field(10, gt=0)
    keep_checkpoints: int = Field(3, gt=0)


class PretrainConfig(Config):
    """A whole pretraining run (``segloc pretrain --config``)."""

    method: Method = "segloc"
    backbone: BackboneConfig = Field(default_factory=BackboneConfig)
    head: HeadConfig = Field(default_factory=HeadConfig)
    contrast: ContrastConfig = Field(default_factory=ContrastConfig)
    data: DataConfig
    optim: PretrainOptim = Field(default_factory=PretrainOptim)
    train: PretrainTrain = Field(default_factory=PretrainTrain)

    RENAMED = {
        "optim.lr_per_256": "optim.lr",
        "train.ckpt_every": "train.checkpoint_every",
        "train.key_bn": "contrast.key_bn",
        "train.shuffle_groups": "contrast.shuffle_groups",
    }

    @model_validator(mode="after")
    def _method(self) -> PretrainConfig:
        if self.head.levels and not set(self.head.levels) <= set(self.backbone.fpn_levels):
            raise ValueError(
                f"head.levels {self.head.levels} must be among backbone.fpn_levels {self.backbone.fpn_levels}"
            )
        if self.method == "segloc" and self.data.source == "synthesis" and self.data.pairs != "segloc":
            raise ValueError("method 'segloc' needs class-labelled pairs: set data.pairs to 'segloc'")
        roi_only = [key for key in ("centred", "fc_norm", "out_norm") if getattr(self.head, key)]
        if self.method == "moco" and roi_only:
            raise ValueError(f"head.{roi_only[0]} changes the RoI head; method 'moco' has the global MLP head")
        return self
