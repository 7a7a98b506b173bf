"""SDANet's selective dense attention over FPN levels (Wang et al., PIDray, ICCV 2021).

Facts read from the public reference (lutao2021/PIDray ``mmdet/models/necks/attfpn.py`` and the
MindSpore port ``R1_feature.py``), followed here:

- one independent attention module per output level (``selective_attention_0..4``): nothing is
  shared between levels; inside a level's module the 1x1 256->128 reduction is shared by the
  per-source-level 1x1 128->256 convs;
- channel and spatial attention run in parallel on the same gathered features and their two
  weighted sums are ADDED (``feats_C + feats_S``), not applied in sequence;
- the reduction conv has no bias (BN follows), the 128->256 convs have a bias, the 7x7 2->1
  spatial convs have none; both softmaxes run over the level axis;
- the sum goes through an mmcv GCNet ``ContextBlock(256, 1/16)`` (attention pooling, channel_add
  fusion, LayerNorm, last conv zero-initialised, its own residual ``x + context``), and the result
  is added to the original P_l. The reference's final adaptive max-pool to P_l's size is a no-op.
- the reference neck's ``init_weights`` Xavier-initialises every Conv2d inside it, which under
  mmdet >= 2.12 probably overwrites the context block's zero init; this module keeps the GCNet
  zero init (SPEC section 5), so at start each level gets exactly P_l + fused attention.
- the reference hard-codes 5 levels and 256 channels; here both are parameters. The weighted
  sums are accumulated level by level instead of materialising a [B, L, C, H, W] product.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from segloc.models.norms import make_norm


def gather_levels(features: list[Tensor], target: int) -> list[Tensor]:
    """Resize every level to level ``target``'s size: max-pool finer levels, nearest-upsample coarser."""
    size = features[target].shape[-2:]
    gathered = []
    for i, feat in enumerate(features):
        if i < target:
            feat = F.adaptive_max_pool2d(feat, size)
        elif i > target:
            feat = F.interpolate(feat, size=size, mode="nearest")
        gathered.append(feat)
    return gathered


class ContextBlock(nn.Module):
    """GCNet global context block (Cao et al. 2019): attention pooling + channel_add transform.

    Returns ``x + transform(context(x))``; the transform's last conv starts at zero, so at
    initialisation the block is the identity.
    """

    def __init__(self, channels: int, ratio: float = 1.0 / 16) -> None:
        super().__init__()
        planes = int(channels * ratio)
        self.mask = nn.Conv2d(channels, 1, kernel_size=1)
        self.transform = nn.Sequential(
            nn.Conv2d(channels, planes, kernel_size=1),
            nn.LayerNorm([planes, 1, 1]),
            nn.ReLU(inplace=True),
            nn.Conv2d(planes, channels, kernel_size=1),
        )
        nn.init.kaiming_normal_(self.mask.weight, mode="fan_in", nonlinearity="relu")
        nn.init.zeros_(self.mask.bias)
        nn.init.zeros_(self.transform[-1].weight)
        nn.init.zeros_(self.transform[-1].bias)

    def context(self, x: Tensor) -> Tensor:
        """Attention-pooled global context vector, shape [B, C, 1, 1]."""
        b, c, h, w = x.shape
        weights = self.mask(x).view(b, 1, h * w).softmax(dim=-1)
        return torch.bmm(x.view(b, c, h * w), weights.transpose(1, 2)).view(b, c, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.transform(self.context(x))


class ChannelAttention(nn.Module):
    """Per-level channel weights: sum levels, GAP, shared 1x1 reduction, one 1x1 expansion per level."""

    def __init__(self, channels: int, num_levels: int, hidden: int = 128, norm: str = "bn") -> None:
        super().__init__()
        self.reduce = nn.Sequential(
            nn.Conv2d(channels, hidden, kernel_size=1, bias=False), make_norm(norm)(hidden), nn.ReLU(inplace=True)
        )
        self.expand = nn.ModuleList(nn.Conv2d(hidden, channels, kernel_size=1) for _ in range(num_levels))

    def forward(self, total: Tensor) -> Tensor:
        """Weights [B, L, C, 1, 1] from the level sum ``total`` [B, C, H, W]; softmax over L."""
        if self.training and total.shape[0] == 1 and type(self.reduce[1]) is nn.BatchNorm2d:
            raise ValueError(
                "SDANet channel attention applies BatchNorm to one pooled vector per image, so training "
                "needs at least 2 images per batch; use attention_norm='gn' or 'frozenbn' for batch 1"
            )
        z = self.reduce(F.adaptive_avg_pool2d(total, 1))
        return torch.stack([conv(z) for conv in self.expand], dim=1).softmax(dim=1)


class SpatialAttention(nn.Module):
    """Per-level spatial weights: channel mean and max of the level sum, one 7x7 conv per level."""

    def __init__(self, num_levels: int, kernel_size: int = 7) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False) for _ in range(num_levels)
        )

    def forward(self, total: Tensor) -> Tensor:
        """Weights [B, L, 1, H, W] from the level sum ``total`` [B, C, H, W]; softmax over L."""
        pooled = torch.cat([total.mean(dim=1, keepdim=True), total.amax(dim=1, keepdim=True)], dim=1)
        return torch.stack([conv(pooled) for conv in self.convs], dim=1).softmax(dim=1)


class SelectiveAttention(nn.Module):
    """Attention producing the refinement of one pyramid level from all levels."""

    def __init__(self, channels: int, num_levels: int, target: int, norm: str = "bn") -> None:
        super().__init__()
        self.target = target
        self.channel = ChannelAttention(channels, num_levels, norm=norm)
        self.spatial = SpatialAttention(num_levels)
        self.refine = ContextBlock(channels)

    def forward(self, features: list[Tensor]) -> Tensor:
        gathered = gather_levels(features, self.target)
        total = gathered[0]
        for feat in gathered[1:]:
            total = total + feat
        channel_w = self.channel(total)
        spatial_w = self.spatial(total)
        fused = gathered[0] * (channel_w[:, 0] + spatial_w[:, 0])
        for i in range(1, len(gathered)):
            fused = torch.addcmul(fused, gathered[i], channel_w[:, i] + spatial_w[:, i])
        return features[self.target] + self.refine(fused)


class SDAAttention(nn.Module):
    """SDANet attention after the FPN: one ``SelectiveAttention`` per level, output shapes = input shapes."""

    def __init__(self, channels: int = 256, num_levels: int = 5, norm: str = "bn") -> None:
        super().__init__()
        self.num_levels = num_levels
        self.levels = nn.ModuleList(
            SelectiveAttention(channels, num_levels, target, norm=norm) for target in range(num_levels)
        )

    def forward(self, features: list[Tensor]) -> list[Tensor]:
        """Refine a list of pyramid levels ordered finest first."""
        if len(features) != self.num_levels:
            raise ValueError(f"SDAAttention built for {self.num_levels} levels, got {len(features)}")
        return [module(features) for module in self.levels]
