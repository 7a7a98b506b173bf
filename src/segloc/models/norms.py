"""Normalisation layer factories shared by the trunk, the FPN, the attention and the heads."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn
from torchvision.ops import FrozenBatchNorm2d

from segloc.models.spec import NORM_KINDS

GN_GROUPS = 32


def make_norm(kind: str) -> Callable[[int], nn.Module]:
    """Return a factory ``channels -> norm layer`` for ``kind`` in bn, syncbn, frozenbn, gn.

    ``gn`` is GroupNorm with 32 groups (Wu & He); ``frozenbn`` keeps statistics and affine fixed
    (torchvision's FrozenBatchNorm2d), the usual choice when fine-tuning detectors on small batches.
    """
    if kind == "bn":
        return nn.BatchNorm2d
    if kind == "syncbn":
        return nn.SyncBatchNorm
    if kind == "frozenbn":
        return FrozenBatchNorm2d
    if kind == "gn":
        return _group_norm
    raise ValueError(f"unknown norm kind {kind!r}; expected one of {', '.join(NORM_KINDS)}")


def _group_norm(channels: int) -> nn.GroupNorm:
    if channels % GN_GROUPS:
        raise ValueError(f"GroupNorm needs channels divisible by {GN_GROUPS}, got {channels}")
    return nn.GroupNorm(GN_GROUPS, channels)


def convert_to_syncbn(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm in ``module`` by SyncBatchNorm (statistics over all ranks)."""
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)
