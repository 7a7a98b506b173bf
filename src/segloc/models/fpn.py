"""Feature pyramid network (Lin et al. 2017) over ResNet stages C2..C5, optional BN inside as InsLoc."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from segloc.models.norms import make_norm

FPN_LEVELS = ("p2", "p3", "p4", "p5", "p6")
TRUNK_LEVELS = ("p2", "p3", "p4", "p5")


def level_stride(level: str) -> int:
    """Stride of pyramid level ``pN`` relative to the input image (2**N)."""
    if level not in FPN_LEVELS:
        raise ValueError(f"unknown pyramid level {level!r}; expected one of {', '.join(FPN_LEVELS)}")
    return 2 ** int(level[1:])


def check_levels(levels: Sequence[str]) -> tuple[str, ...]:
    """Validate a set of pyramid levels: known names, no duplicates, returned finest first."""
    levels = tuple(levels)
    if not levels:
        raise ValueError("fpn_levels is empty")
    for level in levels:
        level_stride(level)
    if len(set(levels)) != len(levels):
        raise ValueError(f"duplicate pyramid levels in {levels}")
    return tuple(sorted(levels, key=level_stride))


class ConvNorm(nn.Module):
    """Conv, optional norm, optional ReLU; the conv has a bias only when there is no norm."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, norm: str | None, relu: bool = False
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=norm is None)
        self.norm = make_norm(norm)(out_channels) if norm is not None else nn.Identity()
        self.act = nn.ReLU(inplace=True) if relu else nn.Identity()
        nn.init.kaiming_uniform_(self.conv.weight, a=1)
        if self.conv.bias is not None:
            nn.init.zeros_(self.conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))


class FPN(nn.Module):
    """Top-down pyramid with lateral 1x1 and output 3x3 convs; P6 by stride-2 max-pool of P5.

    Laterals run from the finest requested level up to C5 (the top-down path needs them); output
    convs exist only for the levels actually returned (plus P5 when only P6 needs it), so no
    parameter goes unused. Upsampling is nearest to the lateral's own size, so any input size works.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        levels: Sequence[str] = TRUNK_LEVELS,
        out_channels: int = 256,
        norm: str | None = "bn",
    ) -> None:
        super().__init__()
        if len(in_channels) != len(TRUNK_LEVELS):
            raise ValueError(f"FPN expects channels of C2..C5, got {list(in_channels)}")
        self.levels = check_levels(levels)
        self.out_channels = out_channels
        needed = {lv for lv in self.levels if lv in TRUNK_LEVELS}
        if "p6" in self.levels:
            needed.add("p5")
        self.inputs = TRUNK_LEVELS[min(TRUNK_LEVELS.index(lv) for lv in needed) :]
        self.computed = tuple(lv for lv in self.inputs if lv in needed)
        self.lateral = nn.ModuleList(
            ConvNorm(in_channels[TRUNK_LEVELS.index(lv)], out_channels, 1, norm) for lv in self.inputs
        )
        self.output = nn.ModuleList(ConvNorm(out_channels, out_channels, 3, norm) for _ in self.computed)

    def forward(self, trunk: dict[str, Tensor]) -> OrderedDict[str, Tensor]:
        """Map trunk features {"c2".."c5"} to the configured pyramid levels, finest first."""
        laterals = [conv(trunk["c" + lv[1:]]) for conv, lv in zip(self.lateral, self.inputs)]
        for i in range(len(laterals) - 2, -1, -1):
            laterals[i] = laterals[i] + F.interpolate(laterals[i + 1], size=laterals[i].shape[-2:], mode="nearest")
        by_level = dict(zip(self.inputs, laterals))
        computed = {lv: conv(by_level[lv]) for conv, lv in zip(self.output, self.computed)}
        if "p6" in self.levels:
            computed["p6"] = F.max_pool2d(computed["p5"], kernel_size=1, stride=2)
        return OrderedDict((lv, computed[lv]) for lv in self.levels)
