"""Detector builders: (Cascade) Mask R-CNN and their box-only variants on segloc's ResNet+FPN(+SDANet).

Every detector is a torchvision ``GeneralizedRCNN``: segloc backbone (P2-P6), torchvision's RPN
with segloc's proposal filtering, RoIAlign on P2-P5 (7x7 boxes, 14x14 masks), and either
torchvision's ``RoIHeads`` (Mask / Faster R-CNN) or :class:`CascadeRoIHeads`. The ``backbone``
attribute is the pretraining network, so exports load into it key for key.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.models.detection.generalized_rcnn import GeneralizedRCNN
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.roi_heads import RoIHeads
from torchvision.models.detection.rpn import RPNHead
from torchvision.models.detection.transform import GeneralizedRCNNTransform

from segloc.detection.box_head import BoxHead
from segloc.detection.cascade import AgnosticBoxPredictor, CascadeRoIHeads, CascadeStage
from segloc.detection.config import ModelConfig
from segloc.detection.rpn import RegionProposalNetwork
from segloc.detection.rpn import RPNHead as NarrowRPNHead
from segloc.models import BackboneWithFPN, build_backbone
from segloc.models.roi_align import MultiScaleRoIAlign

PYRAMID = ("p2", "p3", "p4", "p5", "p6")
ROI_LEVELS = ["p2", "p3", "p4", "p5"]
ASPECT_RATIOS = (0.5, 1.0, 2.0)
MASK_CONVS = 4


def build_detector_backbone(cfg: ModelConfig) -> BackboneWithFPN:
    """The detector's ResNet+FPN(P2-P6)(+SDANet) as ``cfg`` describes it (random weights)."""
    return build_backbone(
        cfg.arch,
        cfg.norm,
        fpn_levels=PYRAMID,
        fpn_norm=cfg.fpn_norm,
        attention=cfg.attention,
        trainable_layers=cfg.trainable_layers,
        out_channels=cfg.fpn_channels,
    )


def _rpn(cfg: ModelConfig, channels: int) -> RegionProposalNetwork:
    anchors = AnchorGenerator(tuple((s,) for s in cfg.anchor_sizes), (ASPECT_RATIOS,) * len(cfg.anchor_sizes))
    num_anchors = anchors.num_anchors_per_location()[0]
    head = (
        RPNHead(channels, num_anchors)
        if cfg.rpn_channels is None
        else NarrowRPNHead(channels, num_anchors, cfg.rpn_channels)
    )
    return RegionProposalNetwork(
        anchors,
        head,
        fg_iou_thresh=0.7,
        bg_iou_thresh=0.3,
        batch_size_per_image=cfg.rpn_batch_per_image,
        positive_fraction=0.5,
        pre_nms_top_n={"training": cfg.rpn_pre_nms_train, "testing": cfg.rpn_pre_nms_test},
        post_nms_top_n={"training": cfg.rpn_post_nms_train, "testing": cfg.rpn_post_nms_test},
        nms_thresh=0.7,
    )


def _transform(cfg: ModelConfig) -> GeneralizedRCNNTransform:
    # min_size = max_size = image_size: the longer side becomes image_size, as the data pipeline does.
    return GeneralizedRCNNTransform(cfg.image_size, cfg.image_size, list(cfg.image_mean), list(cfg.image_std))


def _mask_parts(channels: int, dim: int, num_classes: int) -> tuple[MultiScaleRoIAlign, nn.Module, nn.Module]:
    # Head and predictor weights are channels-last. On a CPU, PyTorch's transposed convolution takes a
    # slow reference kernel for contiguous weights and oneDNN's for channels-last (about 5x faster), and
    # the head's 3x3 convolutions over 14x14 RoIs run about 1.4x faster (forward; 1.1x with backward).
    return (
        MultiScaleRoIAlign(ROI_LEVELS, 14, 2),
        MaskRCNNHeads(channels, [dim] * MASK_CONVS, 1).to(memory_format=torch.channels_last),
        MaskRCNNPredictor(dim, dim, num_classes + 1).to(memory_format=torch.channels_last),
    )


def maskrcnn(num_classes: int, cfg: ModelConfig | None = None, masks: bool = True) -> GeneralizedRCNN:
    """Mask R-CNN (or Faster R-CNN with ``masks=False``) with class-specific box regression."""
    cfg = cfg or ModelConfig(kind="mask_rcnn")
    backbone = build_detector_backbone(cfg)
    ch = backbone.out_channels
    mask_pool, mask_head, mask_predictor = _mask_parts(ch, cfg.mask_head_dim, num_classes) if masks else (None,) * 3
    heads = RoIHeads(
        MultiScaleRoIAlign(ROI_LEVELS, 7, 2),
        BoxHead(ch * 7 * 7, cfg.box_head_dim),
        FastRCNNPredictor(cfg.box_head_dim, num_classes + 1),
        fg_iou_thresh=0.5,
        bg_iou_thresh=0.5,
        batch_size_per_image=cfg.roi_batch_per_image,
        positive_fraction=0.25,
        bbox_reg_weights=None,
        score_thresh=cfg.score_thresh,
        nms_thresh=cfg.nms_thresh,
        detections_per_img=cfg.detections_per_img,
        mask_roi_pool=mask_pool,
        mask_head=mask_head,
        mask_predictor=mask_predictor,
    )
    return GeneralizedRCNN(backbone, _rpn(cfg, ch), heads, _transform(cfg))


def cascade_maskrcnn(num_classes: int, cfg: ModelConfig | None = None, masks: bool = True) -> GeneralizedRCNN:
    """Cascade Mask R-CNN (or Cascade R-CNN with ``masks=False``): the SDANet detector with the defaults."""
    cfg = cfg or ModelConfig()
    backbone = build_detector_backbone(cfg)
    ch = backbone.out_channels
    stages = [
        CascadeStage(
            BoxHead(ch * 7 * 7, cfg.box_head_dim),
            AgnosticBoxPredictor(cfg.box_head_dim, num_classes),
            iou,
            stds,
            weight,
            batch_size_per_image=cfg.roi_batch_per_image,
        )
        for iou, stds, weight in zip(cfg.cascade_ious, cfg.cascade_stds, cfg.cascade_weights)
    ]
    mask_pool, mask_head, mask_predictor = _mask_parts(ch, cfg.mask_head_dim, num_classes) if masks else (None,) * 3
    heads = CascadeRoIHeads(
        MultiScaleRoIAlign(ROI_LEVELS, 7, 2),
        stages,
        cfg.score_thresh,
        cfg.nms_thresh,
        cfg.detections_per_img,
        mask_pool,
        mask_head,
        mask_predictor,
        cfg.mask_loss_weight,
    )
    return GeneralizedRCNN(backbone, _rpn(cfg, ch), heads, _transform(cfg))


def fasterrcnn(num_classes: int, cfg: ModelConfig | None = None) -> GeneralizedRCNN:
    """Box-only Faster R-CNN (for datasets without masks, e.g. SIXray boxes)."""
    return maskrcnn(num_classes, cfg, masks=False)


def cascade_rcnn(num_classes: int, cfg: ModelConfig | None = None) -> GeneralizedRCNN:
    """Box-only Cascade R-CNN."""
    return cascade_maskrcnn(num_classes, cfg, masks=False)


def build_detector(cfg: ModelConfig, num_classes: int, masks: bool) -> GeneralizedRCNN:
    """The detector ``cfg.kind`` names, with or without a mask head."""
    builder = cascade_maskrcnn if cfg.kind == "cascade" else maskrcnn
    return builder(num_classes, cfg, masks=masks)


def has_masks(model: GeneralizedRCNN) -> bool:
    """Whether a detector built here predicts masks."""
    heads = model.roi_heads
    return heads.has_mask if isinstance(heads, CascadeRoIHeads) else heads.has_mask()
