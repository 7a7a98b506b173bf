"""Batch plumbing of the key path: padding to a common size, gathering from all ranks, BN groups."""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor

from segloc.engine import all_gather_cat


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of the process group, (0, 1) when not distributed."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def pad_to(images: Tensor, height: int, width: int, value: Tensor) -> Tensor:
    """Pad ``[B, C, h, w]`` images bottom/right to ``height x width`` with a per-channel ``value``."""
    pad_h, pad_w = height - images.shape[-2], width - images.shape[-1]
    if pad_h == 0 and pad_w == 0:
        return images
    out = F.pad(images, (0, pad_w, 0, pad_h))
    fill = value.to(images).view(1, -1, 1, 1)
    out[..., images.shape[-2] :, :] = fill
    out[..., :, images.shape[-1] :] = fill
    return out


def trim_padding(images: Tensor, sizes: Tensor) -> Tensor:
    """Crop a padded batch to the largest true ``(h, w)`` in ``sizes`` (the micro-batch's own collate)."""
    height, width = (int(v) for v in sizes.max(dim=0).values)
    return images[..., :height, :width]


def gather_padded(images: Tensor, boxes: Tensor, pad_value: Tensor) -> tuple[Tensor, Tensor]:
    """Images and boxes of every rank, in rank order, padded to the largest image of any rank."""
    size = torch.tensor(images.shape[-2:], device=images.device)
    dist.all_reduce(size, op=dist.ReduceOp.MAX)
    images = pad_to(images, int(size[0]), int(size[1]), pad_value)
    return all_gather_cat(images), all_gather_cat(boxes)


def key_order(total: int, generator: torch.Generator | None) -> Tensor:
    """Order in which the gathered key batch is cut into BN groups: random (shuffle-BN) or as is."""
    if generator is None:
        return torch.arange(total)
    return torch.randperm(total, generator=generator)
