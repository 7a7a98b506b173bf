"""Network building blocks shared by contrastive pretraining and the downstream detector."""
from segloc.models.backbone import BackboneWithFPN, ResNetTrunk, build_backbone, build_resnet, trunk_channels
from segloc.models.fpn import FPN, FPN_LEVELS, level_stride
from segloc.models.heads import GlobalEmbeddingHead, RoIEmbeddingHead
from segloc.models.norms import NORM_KINDS, convert_to_syncbn, make_norm
from segloc.models.sdanet import ContextBlock, SDAAttention
from segloc.models.weights import (
    LoadReport,
    WeightsError,
    load_backbone_weights,
    read_backbone_config,
    read_metadata,
    read_state,
    save_backbone,
    torchvision_layout,
)

__all__ = [
    "FPN",
    "FPN_LEVELS",
    "NORM_KINDS",
    "BackboneWithFPN",
    "ContextBlock",
    "GlobalEmbeddingHead",
    "LoadReport",
    "ResNetTrunk",
    "RoIEmbeddingHead",
    "SDAAttention",
    "WeightsError",
    "build_backbone",
    "build_resnet",
    "convert_to_syncbn",
    "level_stride",
    "load_backbone_weights",
    "make_norm",
    "read_backbone_config",
    "read_metadata",
    "read_state",
    "save_backbone",
    "torchvision_layout",
    "trunk_channels",
]
