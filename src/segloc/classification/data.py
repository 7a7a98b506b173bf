"""SIXray image-level labels as a dataset, its transforms, and a deterministic epoch sampler.

Transforms follow the authors' code: training images are warped (resized without keeping the
aspect ratio) to ``resize`` px, flipped at random and randomly cropped to ``size``; test images
are warped to ``size``; both are normalised with the ImageNet mean/std.

Randomness is a pure function of (seed, epoch, index): the sampler's order of an epoch and each
sample's crop/flip. A run resumed in the middle of an epoch therefore sees exactly the batches a
straight run would, with any number of loader workers.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from segloc.data.images import read_rgb, unreadable_images
from segloc.data.sixray import SIXRAY_CLASSES, SixrayRoot
from segloc.errors import BadRecords, DatasetError

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def to_tensor(image: np.ndarray) -> Tensor:
    """(H, W, 3) uint8 RGB -> normalised (3, H, W) float tensor."""
    array = (image.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def test_transform(image: np.ndarray, size: int) -> Tensor:
    """Warp to ``size`` x ``size`` and normalise."""
    return to_tensor(cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR))


def train_transform(image: np.ndarray, size: int, resize: int, rng: np.random.Generator) -> Tensor:
    """Warp to ``resize`` x ``resize``, random horizontal flip, random ``size`` crop, normalise."""
    image = cv2.resize(image, (resize, resize), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        image = image[:, ::-1]
    top, left = rng.integers(0, resize - size + 1, size=2)
    return to_tensor(image[top : top + size, left : left + size])


class SixrayClassification(Dataset):
    """Images of ``ImageSet/<subset>/<split>.csv`` with their 1/-1/0 labels for ``class_names``.

    Items are (image tensor, label tensor (C,) float, index). A key is an index, or for
    training an (index, epoch) pair, which seeds that sample's augmentation.
    """

    def __init__(
        self,
        root: Path | str | SixrayRoot,
        subset: str,
        split: str,
        train: bool = False,
        size: int = 224,
        resize: int = 256,
        seed: int = 0,
        class_names: Sequence[str] = SIXRAY_CLASSES,
        skip_bad: bool = False,
    ) -> None:
        self.root = root if isinstance(root, SixrayRoot) else SixrayRoot(root)
        table = self.root.labels(str(subset), split, skip_bad)
        missing = [c for c in class_names if c not in table.class_names]
        if missing:
            raise DatasetError(f"{table.path}: no column for class(es) {missing}; header has {table.class_names}")
        if not table.rows:
            raise DatasetError(f"{table.path}: no labelled image")
        if train and resize < size:
            raise ValueError(f"resize ({resize}) must be at least the crop size ({size})")
        columns = [table.class_names.index(c) for c in class_names]
        self.names = self._readable(list(table.rows), table.path) if skip_bad else list(table.rows)
        if not self.names:
            raise DatasetError(f"{table.path}: no image left to use")
        self.labels = torch.tensor([[table.rows[n][i] for i in columns] for n in self.names], dtype=torch.float32)
        self.class_names = list(class_names)
        self.train, self.size, self.resize, self.seed = train, size, resize, seed

    def _readable(self, names: list[str], source: Path) -> list[str]:
        """The names whose image exists and decodes; the others are left out with one warning."""
        bad = BadRecords(source, skip_bad=True)
        paths = {}
        for name in names:
            try:
                paths[name] = self.root.image_path(name)
            except DatasetError as exc:
                bad.report_error(exc)
        broken = unreadable_images(list(paths.values()))
        for path, problem in broken.items():
            bad.report(f"{path.name}: {problem}")
        bad.warn_summary()
        return [name for name, path in paths.items() if path not in broken]

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[Tensor, Tensor, int]:
        index, epoch = key if isinstance(key, tuple) else (key, 0)
        image = read_rgb(self.root.image_path(self.names[index]))
        if self.train:
            rng = np.random.default_rng((self.seed, epoch, index))
            tensor = train_transform(image, self.size, self.resize, rng)
        else:
            tensor = test_transform(image, self.size)
        return tensor, self.labels[index], index


def sample_weights(labels: Tensor) -> Tensor:
    """Per-image sampling weights giving each class's positives and the all-negative images equal mass.

    An image positive for several classes takes the largest of its groups' weights.
    """
    positive = labels > 0
    groups = torch.cat([positive, ~positive.any(dim=1, keepdim=True)], dim=1).float()
    per_group = groups.sum(dim=0).clamp(min=1).reciprocal()
    return (groups * per_group).max(dim=1).values


def positive_weights(labels: Tensor) -> Tensor:
    """Per-class BCE pos_weight = negatives / positives (at least 1; 1 for a class with no positive)."""
    pos = (labels >= 0).sum(dim=0).float()
    neg = (labels < 0).sum(dim=0).float()
    return torch.where(pos > 0, neg / pos.clamp(min=1), torch.ones_like(pos)).clamp(min=1.0)


class EpochSampler(Sampler):
    """Keys (index, epoch) of one epoch for one rank: a seeded permutation (or weighted draw with
    replacement), split across ranks, optionally skipping the first ``start`` keys (resume)."""

    def __init__(
        self,
        size: int,
        epoch: int,
        seed: int = 0,
        weights: Tensor | None = None,
        rank: int = 0,
        world_size: int = 1,
        start: int = 0,
    ) -> None:
        self.size, self.epoch, self.seed, self.weights = size, epoch, seed, weights
        self.rank, self.world_size, self.start = rank, world_size, start
        self.per_rank = size // world_size

    def order(self) -> list[int]:
        """This rank's indices for the epoch, before skipping."""
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        if self.weights is None:
            order = torch.randperm(self.size, generator=generator)
        else:
            order = torch.multinomial(self.weights, self.size, replacement=True, generator=generator)
        return order[self.rank : self.per_rank * self.world_size : self.world_size].tolist()

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter([(i, self.epoch) for i in self.order()[self.start :]])

    def __len__(self) -> int:
        return self.per_rank - self.start
