"""Network building blocks shared by contrastive pretraining and the downstream detector.

backbone = build_backbone("resnet101", fpn_levels=("p2", "p3", "p4", "p5", "p6"), attention=True)
pyramid = backbone(images)                        # OrderedDict p2..p6, 256 channels each
embeddings = RoIEmbeddingHead()(pyramid, boxes)   # {level: [N, 128]} unit vectors (InsLoc)
save_backbone(backbone, "ssl.safetensors", meta={"method": "segloc"})
detector_backbone = build_backbone(**read_backbone_config("ssl.safetensors"), weights="ssl.safetensors")
"""

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
    unwrap,
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
    "unwrap",
]
