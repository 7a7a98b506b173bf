"""Embedding heads for contrastive pretraining: InsLoc's per-level RoI head and MoCo v2's global MLP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from segloc.models.backbone import trunk_channels
from segloc.models.fpn import ConvNorm, check_levels, level_stride
from segloc.models.roi_align import roi_align


class RoIEmbeddingHead(nn.Module):
    """InsLoc head: pool each box from EVERY pyramid level, embed each level with one shared head.

    RoIAlign 7x7 (sampling_ratio 2, aligned) at scale 1/stride of each level -> 4x(conv3x3, norm,
    ReLU) -> fc 1024 -> ReLU -> fc 1024 -> ReLU -> fc 128 -> L2 normalise. With ``batch_levels``
    all levels go through the head in one call (faster; BatchNorm then sees all levels' RoIs
    together); without it each level is its own call, as in the InsLoc reference.

    Three changes keep the embeddings from collapsing onto one direction (docs/real-scans.md):
    ``centred`` drops the last conv's ReLU, ``fc_norm`` puts BatchNorm after each fc, ``out_norm``
    puts a BatchNorm without affine on the projection, before the L2 normalisation.
    """

    def __init__(
        self,
        levels: Sequence[str] = ("p2", "p3", "p4", "p5"),
        in_channels: int = 256,
        roi_size: int = 7,
        num_convs: int = 4,
        conv_channels: int = 256,
        fc_dim: int = 1024,
        out_dim: int = 128,
        norm: str = "bn",
        sampling_ratio: int = 2,
        batch_levels: bool = True,
        centred: bool = False,
        fc_norm: bool = False,
        out_norm: bool = False,
    ) -> None:
        super().__init__()
        self.levels = check_levels(levels)
        self.roi_size = roi_size
        self.sampling_ratio = sampling_ratio
        self.batch_levels = batch_levels
        self.convs = nn.Sequential(
            *(
                ConvNorm(
                    in_channels if i == 0 else conv_channels,
                    conv_channels,
                    3,
                    norm,
                    relu=not (centred and i == num_convs - 1),
                )
                for i in range(num_convs)
            )
        )
        width = conv_channels if num_convs else in_channels
        batch_norm = nn.SyncBatchNorm if norm == "syncbn" else nn.BatchNorm1d
        fc_layers: list[nn.Module] = []
        for fc_in in (width * roi_size * roi_size, fc_dim):
            fc_layers += [nn.Linear(fc_in, fc_dim), *([batch_norm(fc_dim)] if fc_norm else []), nn.ReLU(inplace=True)]
        self.fcs = nn.Sequential(*fc_layers)
        self.proj = nn.Linear(fc_dim, out_dim)
        self.out_norm = batch_norm(out_dim, affine=False) if out_norm else nn.Identity()

    def pool(self, features: Mapping[str, Tensor], boxes: Sequence[Tensor]) -> dict[str, Tensor]:
        """RoIAlign of the boxes (image coordinates, one [N_i, 4] tensor per image) on each level."""
        pooled = {}
        for level in self.levels:
            feat = features[level]
            pooled[level] = roi_align(
                feat,
                [b.to(feat.dtype) for b in boxes],
                output_size=self.roi_size,
                spatial_scale=1.0 / level_stride(level),
                sampling_ratio=self.sampling_ratio,
                aligned=True,
            )
        return pooled

    def embed(self, rois: Tensor) -> Tensor:
        """Shared head on pooled RoIs [M, C, 7, 7] -> unit-norm embeddings [M, out_dim]."""
        return F.normalize(self.out_norm(self.proj(self.fcs(self.convs(rois).flatten(1)))), dim=1)

    def forward(self, features: Mapping[str, Tensor], boxes: Sequence[Tensor]) -> dict[str, Tensor]:
        """Embeddings per level: ``{level: [sum N_i, out_dim]}``, rows in box order."""
        pooled = self.pool(features, boxes)
        if not self.batch_levels:
            return {level: self.embed(rois) for level, rois in pooled.items()}
        counts = [rois.shape[0] for rois in pooled.values()]
        embedded = self.embed(torch.cat(list(pooled.values())))
        return dict(zip(pooled.keys(), embedded.split(counts)))


class GlobalEmbeddingHead(nn.Module):
    """MoCo v2 projection: global average pool -> fc -> ReLU -> fc 128 -> L2 normalise."""

    def __init__(self, in_dim: int = 2048, hidden_dim: int | None = None, out_dim: int = 128) -> None:
        super().__init__()
        hidden_dim = hidden_dim or in_dim
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(inplace=True), nn.Linear(hidden_dim, out_dim))

    @classmethod
    def for_arch(cls, arch: str, out_dim: int = 128) -> GlobalEmbeddingHead:
        """Head on C5 of ``arch`` (512-d for resnet18/34, 2048-d for resnet50/101)."""
        return cls(in_dim=trunk_channels(arch)[-1], out_dim=out_dim)

    def forward(self, x: Tensor) -> Tensor:
        """Embed a feature map [B, C, H, W] (or pooled [B, C]) into unit vectors [B, out_dim]."""
        if x.dim() == 4:
            x = x.mean(dim=(2, 3))
        return F.normalize(self.mlp(x), dim=1)
