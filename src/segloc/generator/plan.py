"""Which scans to make: one task per image, with its prohibited item classes drawn class-balanced.

Every image gets its own random stream seeded from (seed, dataset, split, index), so a scan is the
same whatever the number of workers or the order in which they finish.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from segloc.data.sixray import SIXRAY_CLASSES
from segloc.generator.presets import Preset
from segloc.generator.scan import ScanPlan
from segloc.generator.shapes import PIDRAY_CLASSES

SPLIT_CODES = {"train": 1, "easy": 2, "hard": 3, "hidden": 4, "positive": 5, "negative": 6}
DATASET_CODES = {"pidray": 1, "sixray": 2}
PIDRAY_ITEM_COUNTS = {  # split -> (items per scan, probabilities)
    "train": ((1, 2, 3, 4), (0.45, 0.3, 0.17, 0.08)),
    "easy": ((1,), (1.0,)),
    "hard": ((2, 3, 4), (0.55, 0.3, 0.15)),
    "hidden": ((1, 2, 3), (0.5, 0.35, 0.15)),
}
SIXRAY_ITEM_COUNTS = ((1, 2, 3), (0.7, 0.22, 0.08))
HAMMER_RATE = 0.04  # Hammer is rare in SIXray (60 items in the release)


@dataclass(frozen=True)
class Task:
    """One scan to render and write: where it goes and what it holds."""

    dataset: str
    split: str
    index: int
    path: str  # relative to the output root, e.g. "pidray/train/xray_00001.png"
    plan: ScanPlan
    seed: int

    def rng(self) -> np.random.Generator:
        """This scan's own random stream."""
        return np.random.default_rng([self.seed, DATASET_CODES[self.dataset], SPLIT_CODES[self.split], self.index])


def balanced(classes: tuple[str, ...], rng: np.random.Generator) -> Iterator[str]:
    """Endless class stream: each pass is a fresh permutation, so counts never differ by more than one."""
    while True:
        for k in rng.permutation(len(classes)):
            yield classes[int(k)]


def pidray_file_name(split: str, index: int) -> str:
    """Release-style names: xray_00001.png in train, xray_easy00001.png (hard, hidden) in the tests."""
    return f"xray_{index:05d}.png" if split == "train" else f"xray_{split}{index:05d}.png"


def pidray_tasks(preset: Preset, seed: int) -> list[Task]:
    """PIDray scans of every split: easy holds one item, hard two or more, hidden buries them."""
    tasks = []
    for split, count in preset.pidray.items():
        rng = np.random.default_rng([seed, 0, SPLIT_CODES[split]])
        stream = balanced(PIDRAY_CLASSES, rng)
        sizes, probs = PIDRAY_ITEM_COUNTS[split]
        for i in range(1, count + 1):
            k = int(rng.choice(sizes, p=probs))
            plan = ScanPlan("pidray", tuple(next(stream) for _ in range(k)), hidden=split == "hidden")
            tasks.append(Task("pidray", split, i, f"pidray/{split}/{pidray_file_name(split, i)}", plan, seed))
    return tasks


def sixray_tasks(preset: Preset, seed: int) -> list[Task]:
    """SIXray positives (1-3 items of the SIXray classes, Hammer rare) and negatives (no item)."""
    rng = np.random.default_rng([seed, 0, SPLIT_CODES["positive"]])
    stream = balanced(SIXRAY_CLASSES, rng)
    sizes, probs = SIXRAY_ITEM_COUNTS
    tasks = []
    for i in range(1, preset.sixray_positives + 1):
        k = int(rng.choice(sizes, p=probs))
        classes = tuple("Hammer" if rng.random() < HAMMER_RATE else next(stream) for _ in range(k))
        tasks.append(Task("sixray", "positive", i, f"sixray/JPEGImage/P{i:05d}.jpg", ScanPlan("sixray", classes), seed))
    for i in range(1, preset.sixray_negatives + 1):
        tasks.append(Task("sixray", "negative", i, f"sixray/JPEGImage/N{i:07d}.jpg", ScanPlan("sixray"), seed))
    return tasks
