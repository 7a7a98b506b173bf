"""torch Datasets of synthesised pairs (on the fly or from offline shards) and their collate.

Every item is ``{"view1": view, "view2": view, "index": i}`` with ``view = {"image": float
CHW normalised by the ImageNet mean/std, "box": float tensor [x1, y1, x2, y2] (pixels, exclusive
ends, the RoIAlign convention), "mask": uint8 HW, "label": int}``. :func:`collate_pairs` pads
views of different sizes to one batch with the normalised value of white (the empty belt).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from segloc.data.images import IMAGENET_MEAN, IMAGENET_STD
from segloc.synthesis.offline import ShardReader
from segloc.synthesis.pairs import Pair
from segloc.synthesis.paste import View


def normalise(image: np.ndarray) -> torch.Tensor:
    """RGB uint8 HWC -> float CHW normalised with the ImageNet mean and std."""
    tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).contiguous().float()
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1) * 255.0
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1) * 255.0
    return tensor.sub_(mean).div_(std)


def white_value() -> torch.Tensor:
    """The normalised value of a white pixel, per channel (padding value)."""
    return (1.0 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)


def view_item(view: View) -> dict:
    """A :class:`View` as the tensors a training step consumes."""
    return {
        "image": normalise(view.image),
        "box": torch.from_numpy(view.box.astype(np.float32)),
        "mask": torch.from_numpy(np.ascontiguousarray(view.mask)),
        "label": int(view.label),
    }


def pair_item(pair: Pair) -> dict:
    return {"view1": view_item(pair.view1), "view2": view_item(pair.view2), "index": pair.index}


class SamplerPairDataset(Dataset):
    """Pairs made on the fly by a sampler (``index -> Pair``), ``length`` per epoch.

    :meth:`set_epoch` shifts the pair indices by ``epoch * length``, so each epoch sees fresh
    pairs while every pair stays reproducible from (seed, index).
    """

    def __init__(self, sampler: Callable[[int], Pair], length: int) -> None:
        self.sampler = sampler
        self.length = length
        self.offset = 0

    def set_epoch(self, epoch: int) -> None:
        self.offset = epoch * self.length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.length:
            raise IndexError(index)
        return pair_item(self.sampler(self.offset + index))


class SegLocPairDataset(SamplerPairDataset):
    """SegLoc pairs (:class:`segloc.synthesis.pairs.SegLocPairSampler`) on the fly."""


class InsLocPairDataset(SamplerPairDataset):
    """InsLoc baseline pairs (:class:`segloc.synthesis.insloc.InsLocPairSampler`) on the fly."""


class ShardPairDataset(Dataset):
    """Pairs written offline by :func:`segloc.synthesis.offline.write_shards`, in index order."""

    def __init__(self, root: Path | str) -> None:
        self.reader = ShardReader(root)

    def __len__(self) -> int:
        return len(self.reader)

    def __getitem__(self, position: int) -> dict:
        return pair_item(self.reader[position])


def _pad_views(views: list[dict]) -> dict:
    heights = [v["image"].shape[1] for v in views]
    widths = [v["image"].shape[2] for v in views]
    images = white_value().view(1, 3, 1, 1).repeat(len(views), 1, max(heights), max(widths))
    masks = torch.zeros(len(views), max(heights), max(widths), dtype=torch.uint8)
    for i, v in enumerate(views):
        images[i, :, : heights[i], : widths[i]] = v["image"]
        masks[i, : heights[i], : widths[i]] = v["mask"]
    return {
        "image": images,
        "box": torch.stack([v["box"] for v in views]),
        "mask": masks,
        "label": torch.tensor([v["label"] for v in views], dtype=torch.long),
        "size": torch.tensor(list(zip(heights, widths)), dtype=torch.long),
    }


def collate_pairs(batch: list[dict]) -> dict:
    """Batch pair items: images padded bottom/right with white to the largest view of the batch.

    Returns ``{"view1": {"image": B3HW, "box": B4, "mask": BHW, "label": B, "size": B2 (h, w)},
    "view2": {...}, "index": B}``; boxes stay in pixels of the unpadded image, valid for RoIAlign.
    """
    return {
        "view1": _pad_views([b["view1"] for b in batch]),
        "view2": _pad_views([b["view2"] for b in batch]),
        "index": torch.tensor([b["index"] for b in batch], dtype=torch.long),
    }
