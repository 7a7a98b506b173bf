"""Pairs for pretraining: the dataset a config names, and a resumable, rank-aware step sampler.

The sampler's order depends only on (seed, epoch): step ``s`` takes a fixed slice of epoch
``s // steps_per_epoch``'s permutation, each rank its own part of it, so resuming at step ``k``
skips exactly the pairs already consumed, with any number of workers.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from torch.utils.data import DataLoader, Dataset, Sampler

from segloc.data.pidray import find_pidray_splits
from segloc.errors import ConfigError
from segloc.pretrain.config import DataConfig
from segloc.synthesis.builder import build_sampler
from segloc.synthesis.dataset import InsLocPairDataset, SegLocPairDataset, ShardPairDataset, collate_pairs
from segloc.synthesis.insloc import InsLocConfig
from segloc.synthesis.pairs import SegLocConfig


def build_pairs(config: DataConfig, seed: int) -> tuple[Dataset, list[int]]:
    """The pair dataset of ``config`` and the sorted class ids of its labelled segments ([] if none)."""
    if config.source == "shards":
        dataset = ShardPairDataset(config.shards)
        return dataset, sorted(int(c) for c in dataset.reader.manifest.get("categories", {}))
    labelled, images = config.labelled, config.images
    if config.pidray is not None:
        splits = find_pidray_splits(config.pidray)
        if "train" not in splits:
            raise ConfigError(f"{config.pidray}: PIDray root has no train split")
        labelled, images = splits["train"]
    synthesis = (
        SegLocConfig(target_width=config.target_width, composition=config.composition, mode=config.paste_mode)
        if config.pairs == "segloc"
        else InsLocConfig(canvas=config.canvas, crop_side=config.crop_side)
    )
    sampler, manifest = build_sampler(
        config.pairs,
        config.backgrounds,
        labelled,
        images,
        seed,
        config.regions,
        config.background_glob,
        synthesis,
        refine_boxes=config.refine_boxes,
    )
    kind = SegLocPairDataset if config.pairs == "segloc" else InsLocPairDataset
    return kind(sampler, config.pairs_per_epoch), sorted(int(c) for c in manifest["categories"])


def epoch_order(length: int, seed: int, epoch: int) -> np.ndarray:
    """The permutation of ``range(length)`` used in ``epoch`` of run ``seed``."""
    return np.random.default_rng([seed, epoch]).permutation(length)


class StepBatchSampler(Sampler[list[tuple[int, int]]]):
    """Yields, for each step in ``[start, end)``, this rank's ``(epoch, index)`` items.

    Step ``s`` covers positions ``[p * G, (p + 1) * G)`` of its epoch's permutation
    (``G = global_batch``, ``p = s % steps_per_epoch``; the tail of an epoch is dropped); rank
    ``r`` takes the ``r``-th of ``world`` equal parts, so the ranks' batches concatenated in rank
    order are the global batch.
    """

    def __init__(
        self, length: int, global_batch: int, seed: int, start: int, end: int, rank: int = 0, world: int = 1
    ) -> None:
        if global_batch % world:
            raise ConfigError(f"batch size {global_batch} is not divisible by the world size {world}")
        self.steps_per_epoch = length // global_batch
        if self.steps_per_epoch == 0:
            raise ConfigError(f"the dataset has {length} pairs, fewer than one batch of {global_batch}")
        self.length, self.global_batch, self.seed = length, global_batch, seed
        self.start, self.end, self.rank, self.world = start, end, rank, world

    def __len__(self) -> int:
        return max(0, self.end - self.start)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        local = self.global_batch // self.world
        order, order_epoch = None, -1
        for step in range(self.start, self.end):
            epoch, position = divmod(step, self.steps_per_epoch)
            if epoch != order_epoch:
                order, order_epoch = epoch_order(self.length, self.seed, epoch), epoch
            first = position * self.global_batch + self.rank * local
            yield [(epoch, int(i)) for i in order[first : first + local]]


class EpochDataset(Dataset):
    """Reads ``(epoch, index)`` items: sets the epoch of on-the-fly datasets (fresh pairs per epoch)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __getitem__(self, item: tuple[int, int]) -> dict:
        epoch, index = item
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        return self.dataset[index]


def make_loader(dataset: Dataset, sampler: StepBatchSampler, workers: int, pin_memory: bool = False) -> DataLoader:
    """A DataLoader yielding one collated per-rank step batch (all micro-batches) per step."""
    return DataLoader(
        EpochDataset(dataset),
        batch_sampler=sampler,
        num_workers=workers,
        collate_fn=collate_pairs,
        pin_memory=pin_memory,
    )
