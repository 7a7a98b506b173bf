"""Network building blocks shared by contrastive pretraining and the downstream detector.

backbone = build_backbone("resnet101", fpn_levels=("p2", "p3", "p4", "p5", "p6"), attention=True)
pyramid = backbone(images)                        # OrderedDict p2..p6, 256 channels each
embeddings = RoIEmbeddingHead()(pyramid, boxes)   # {level: [N, 128]} unit vectors (InsLoc)
save_backbone(backbone, "ssl.safetensors", meta={"method": "segloc"})
detector_backbone = build_backbone(**read_backbone_config("ssl.safetensors"), weights="ssl.safetensors")

The names below load their module on first use, so that reading a config (``segloc.models.spec``)
or the CLI's help does not import torch.
"""

from __future__ import annotations

from segloc.lazy import lazy_exports

_HOMES = {
    ".backbone": ("BackboneWithFPN", "ResNetTrunk", "build_backbone", "build_resnet", "trunk_channels"),
    ".fpn": ("FPN", "FPN_LEVELS", "level_stride"),
    ".heads": ("GlobalEmbeddingHead", "RoIEmbeddingHead"),
    ".norms": ("convert_to_syncbn", "make_norm"),
    ".sdanet": ("ContextBlock", "SDAAttention"),
    ".spec": ("BackboneSpec", "NORM_KINDS", "RESNETS"),
    ".weights": (
        "LoadReport",
        "WeightsError",
        "load_backbone_weights",
        "read_backbone_config",
        "read_metadata",
        "read_state",
        "save_backbone",
        "torchvision_layout",
        "unwrap",
    ),
}
__all__, __getattr__ = lazy_exports(__name__, _HOMES)
