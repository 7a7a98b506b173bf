"""Fine-tuning configuration: detector, data, optimisation and evaluation, with the paper's recipe as defaults."""
from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, model_validator

from segloc.config import Config

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ModelConfig(Config):
    """The detector: family, backbone and head sizes (defaults: SDANet, i.e. Cascade Mask R-CNN R-101 + attention)."""

    kind: Literal["cascade", "mask_rcnn"] = "cascade"
    masks: bool | None = Field(None, description="mask head on/off; None: on when the training data has masks")
    arch: Literal["resnet18", "resnet34", "resnet50", "resnet101"] = "resnet101"
    norm: Literal["bn", "syncbn", "frozenbn", "gn"] = "bn"
    fpn_norm: Literal["bn", "syncbn", "frozenbn", "gn"] | None = "bn"
    attention: bool = True
    trainable_layers: int = Field(5, ge=0, le=5)
    fpn_channels: int = Field(256, gt=0)
    image_size: int = Field(500, gt=0, description="longer image side after resizing (aspect kept)")
    image_mean: tuple[float, float, float] = IMAGENET_MEAN
    image_std: tuple[float, float, float] = IMAGENET_STD
    anchor_sizes: tuple[int, int, int, int, int] = (32, 64, 128, 256, 512)
    rpn_pre_nms_train: int = 2000
    rpn_post_nms_train: int = 2000
    rpn_pre_nms_test: int = 1000
    rpn_post_nms_test: int = 1000
    rpn_batch_per_image: int = 256
    rpn_channels: int | None = Field(None, gt=0, description="RPN hidden width; None: the FPN width (paper)")
    roi_batch_per_image: int = 512
    box_head_dim: int = 1024
    mask_head_dim: int = 256
    cascade_ious: tuple[float, ...] = (0.5, 0.6, 0.7)
    cascade_weights: tuple[float, ...] = (1.0, 0.5, 0.25)
    cascade_stds: tuple[tuple[float, float, float, float], ...] = (
        (0.1, 0.1, 0.2, 0.2), (0.05, 0.05, 0.1, 0.1), (0.033, 0.033, 0.067, 0.067))
    mask_loss_weight: float = 1.0
    score_thresh: float = 0.05
    nms_thresh: float = 0.5
    detections_per_img: int = 100

    @model_validator(mode="after")
    def _stages_agree(self) -> ModelConfig:
        n = len(self.cascade_ious)
        if n == 0 or len(self.cascade_weights) != n or len(self.cascade_stds) != n:
            raise ValueError("cascade_ious, cascade_weights and cascade_stds need one entry per stage")
        return self


class LabelSource(Config):
    """One labelled set: a COCO json, a VOC xml folder or a YOLO txt folder, its image folder (default:
    the format's usual place) and, for VOC / YOLO, its class names file (default: found beside it)."""

    labels: str = Field(validation_alias=AliasChoices("labels", "json_path"))
    images: str | None = None
    classes: str | None = None


class DataConfig(Config):
    """Where the data lives: a PIDray root (its val split, if any, is validated on during training), or
    explicit labelled sets in any format segloc reads (e.g. SIXray boxes, a YOLO folder)."""

    root: str | None = Field(None, description="PIDray root (annotations/ + image folders)")
    train: LabelSource | None = None
    val: LabelSource | None = Field(None, description="validation set (default: a PIDray root's val split)")
    test: dict[str, LabelSource] = Field(default_factory=dict)
    flip: float = Field(0.5, ge=0.0, le=1.0)
    workers: int = Field(2, ge=0)
    skip_bad: bool = False
    max_train_images: int | None = Field(None, gt=0, description="use only the first N training images")

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if (self.root is None) == (self.train is None):
            raise ValueError("give exactly one of data.root (PIDray layout) or data.train (COCO json + images)")
        return self


class TrainConfig(Config):
    """Optimisation: SGD, step schedule with linear warm-up, gradient clipping, AMP on GPU."""

    epochs: int = Field(12, gt=0)
    lr_steps: tuple[int, ...] = (8, 11)
    batch_size: int = Field(2, gt=0, description="images per process")
    lr: float = Field(0.02, gt=0)
    lr_batch: int = Field(16, gt=0, description="batch size lr refers to; the lr is scaled linearly")
    momentum: float = 0.9
    weight_decay: float = 1e-4
    grad_clip: float | None = 35.0
    warmup_iters: int = Field(500, ge=0)
    warmup_ratio: float = 0.001
    amp: bool = True
    seed: int = 0
    device: str = "auto"
    log_every: int = Field(20, gt=0)
    checkpoint_every: int = Field(1000, gt=0, description="iterations between checkpoints (also at each epoch end)")
    keep_checkpoints: int = Field(2, gt=0)


class EvalConfig(Config):
    """Evaluation: on the val set during training (bbox AP; the best model is kept as model_best.pt) and on
    the test splits after it."""

    splits: tuple[str, ...] | Literal["all"] = "all"
    batch_size: int = Field(2, gt=0)
    val_every: int = Field(1, ge=0, description="epochs between evaluations on the val set (0: never)")


class FinetuneConfig(Config):
    """Everything a fine-tuning run needs; saved as config.yaml in the run folder."""

    init: str = Field("random", description="'random' or a weights file (segloc export / torchvision ResNet)")
    init_name: str | None = Field(None, description="row name in reports; derived from the init file when unset")
    model: ModelConfig = Field(default_factory=ModelConfig)
    data: DataConfig
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
