"""Fine-tuning configuration: detector, data, optimisation and evaluation, with the paper's recipe as defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, model_validator

from segloc.config import Config
from segloc.data.images import IMAGENET_MEAN, IMAGENET_STD
from segloc.engine.config import OptimConfig, TrainConfig
from segloc.models.spec import Arch, BackboneSpec


class ModelConfig(BackboneSpec):
    """The detector: the shared backbone spec, family and head sizes (defaults: SDANet, i.e. Cascade Mask
    R-CNN R-101 + attention)."""

    arch: Arch = "resnet101"
    attention: bool = Field(True, description="SDANet attention after the FPN")
    kind: Literal["cascade", "mask_rcnn"] = "cascade"
    masks: bool | None = Field(None, description="mask head on/off; None: on when the training data has masks")
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
        (0.1, 0.1, 0.2, 0.2),
        (0.05, 0.05, 0.1, 0.1),
        (0.033, 0.033, 0.067, 0.067),
    )
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
    vflip: float = Field(0.0, ge=0.0, le=1.0, description="probability of a vertical flip")
    hue: float = Field(0.0, ge=0.0, le=0.5, description="colour jitter: hue shift, share of the colour circle")
    saturation: float = Field(0.0, ge=0.0, le=1.0, description="colour jitter: saturation scaled by 1 +- this")
    density: float = Field(0.0, ge=0.0, le=1.0, description="colour jitter: attenuations scaled by exp(+- this)")
    workers: int = Field(2, ge=0)
    aspect_grouping: bool = Field(True, description="batch scans that pad to the same shape together (less padding)")
    skip_bad: bool = False
    max_train_images: int | None = Field(None, gt=0, description="use only the first N training images")

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if (self.root is None) == (self.train is None):
            raise ValueError("give exactly one of data.root (PIDray layout) or data.train (COCO json + images)")
        return self


class FinetuneOptim(OptimConfig):
    """The paper's recipe: SGD lr 0.02 per 16 images, x0.1 at epochs 8 and 11, 500-step warm-up, clip 35."""

    lr: float = Field(0.02, gt=0.0)
    lr_batch: int | None = Field(16, gt=0)
    milestones: list[float] = Field(default_factory=lambda: [8, 11])
    warmup_steps: int = Field(500, ge=0)
    grad_clip: float | None = Field(35.0, gt=0.0)
    backbone_lr_factor: float = Field(
        1.0,
        gt=0.0,
        le=1.0,
        description="the backbone's lr (trunk + FPN: what an init file loads) as a share of the heads' lr; "
        "below 1 a pretrained backbone moves less from its init",
    )


class FinetuneTrain(TrainConfig):
    """12 epochs of 2 images (global batch), fp16 AMP on GPU."""

    batch_size: int = Field(2, gt=0)
    epochs: float = Field(12.0, gt=0.0)
    amp: Literal["none", "bf16", "fp16"] = "fp16"


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
    optim: FinetuneOptim = Field(default_factory=FinetuneOptim)
    train: FinetuneTrain = Field(default_factory=FinetuneTrain)
    eval: EvalConfig = Field(default_factory=EvalConfig)

    RENAMED = {
        "train.lr": "optim.lr",
        "train.lr_batch": "optim.lr_batch",
        "train.momentum": "optim.momentum",
        "train.weight_decay": "optim.weight_decay",
        "train.grad_clip": "optim.grad_clip",
        "train.warmup_iters": "optim.warmup_steps",
        "train.warmup_ratio": "optim.warmup_start",
        "train.lr_steps": "optim.milestones",
    }
