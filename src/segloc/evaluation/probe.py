"""kNN probe of a backbone: how well its features of labelled boxes tell the classes apart.

A cheap check of a pretrained backbone before a detector is fine-tuned from it (minutes on a
CPU instead of hours): every ground-truth box of a labelled split is RoIAligned from the
trunk's C4 and C5 maps, average-pooled, concatenated and L2-normalised; a weighted kNN
classifier (InstDisc's: k neighbours vote with ``exp(cos / T)``) indexed on the train split
then labels the boxes of a test split. Random initialisation gives the floor to beat. To choose
a pretraining recipe, read the probe on images held out of the train split (:func:`hold_out`),
never on the test splits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from segloc.data.coco import CocoDataset
from segloc.data.images import IMAGENET_MEAN, IMAGENET_STD, read_rgb
from segloc.data.pidray import TEST_SPLITS, load_pidray
from segloc.data.sixray_det import has_sixray_det, load_sixray_det
from segloc.errors import DatasetError
from segloc.models import BackboneWithFPN
from segloc.models.roi_align import roi_align
from segloc.synthesis.pairs import resize_to_width

PROBE_LEVELS = {"c4": 1 / 16, "c5": 1 / 32}


@dataclass
class ProbeSet:
    """A labelled split decoded once (uint8 CHW images at the probe width, boxes in their pixels), so
    that several backbones are probed without decoding it again."""

    images: list[Tensor]
    boxes: list[Tensor]
    labels: Tensor
    categories: dict[int, str]


def load_probe_set(coco: CocoDataset, width: int = 320, max_images: int | None = None) -> ProbeSet:
    """The images of ``coco`` that have boxes (the first ``max_images``), resized to ``width``."""
    images, boxes, labels = [], [], []
    for record in tqdm(coco.images[:max_images], desc=f"probe: reading {coco.json_path.name}", unit="img", leave=False):
        if not record.instances:
            continue
        image = resize_to_width(read_rgb(record.path), width)
        scale = image.shape[1] / record.width
        images.append(torch.from_numpy(image).permute(2, 0, 1).contiguous())
        boxes.append(torch.tensor([inst.box_xyxy for inst in record.instances], dtype=torch.float32) * scale)
        labels.extend(inst.category_id for inst in record.instances)
    if not images:
        raise DatasetError(f"{coco.json_path}: no labelled boxes to probe")
    return ProbeSet(images, boxes, torch.tensor(labels), dict(coco.categories))


def hold_out(data: ProbeSet, every: int = 5) -> tuple[ProbeSet, ProbeSet]:
    """``(index, held_out)``: every ``every``-th image of ``data`` held out, the others indexed."""
    if every < 2:
        raise ValueError(f"hold_out needs every >= 2, got {every}")
    parts: tuple[list[int], list[int]] = ([], [])
    for i in range(len(data.images)):
        parts[i % every == every - 1].append(i)
    if not parts[1]:
        raise DatasetError(f"{len(data.images)} labelled images are too few to hold every {every}th one out")
    starts = torch.tensor([0] + [len(b) for b in data.boxes]).cumsum(0).tolist()

    def subset(images: list[int]) -> ProbeSet:
        labels = torch.cat([data.labels[starts[i] : starts[i + 1]] for i in images])
        return ProbeSet([data.images[i] for i in images], [data.boxes[i] for i in images], labels, data.categories)

    return subset(parts[0]), subset(parts[1])


def probe_sets(
    coco: dict[str, CocoDataset],
    tests: list[str],
    width: int = 320,
    max_images: int | None = None,
    holdout_every: int | None = 5,
) -> tuple[ProbeSet, dict[str, ProbeSet]]:
    """The kNN index (the train split, less its held-out images) and the sets to probe: ``val`` (every
    ``holdout_every``-th train image, to tune on; None when ``coco`` has a real val split among
    ``tests``), then each split of ``tests`` present in ``coco``."""
    index = load_probe_set(coco["train"], width, max_images)
    held = {}
    if holdout_every is not None:
        index, held["val"] = hold_out(index, holdout_every)
    present = {split: load_probe_set(coco[split], width, max_images) for split in tests if split in coco}
    return index, {**held, **present}


def root_probe_sets(
    root: Path | str,
    splits: list[str] | None = None,
    width: int = 320,
    max_images: int | None = None,
    holdout_every: int = 5,
) -> tuple[ProbeSet, dict[str, ProbeSet]]:
    """:func:`probe_sets` of a dataset root: the real box-only layout (``sixray-det``; its ``val`` split is
    the one to tune on, so nothing is held out; default splits: val) or a PIDray root (every
    ``holdout_every``-th train image held out as ``val``; default splits: the test splits)."""
    if has_sixray_det(root):
        splits = splits or ["val"]
        return probe_sets(load_sixray_det(root, ("train", *splits)), splits, width, max_images, None)
    splits = splits or list(TEST_SPLITS)
    return probe_sets(load_pidray(root, ("train", *splits)), splits, width, max_images, holdout_every)


@torch.no_grad()
def box_features(backbone: BackboneWithFPN, data: ProbeSet, device: torch.device | str = "cpu") -> Tensor:
    """Unit feature vectors ``[boxes, C4 + C5 channels]`` of every box (trunk in eval mode, one image at a time)."""
    trunk = backbone.body.eval().to(device)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1) * 255
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1) * 255
    features = []
    for image, boxes in tqdm(
        zip(data.images, data.boxes), total=len(data.images), desc="probe: features", unit="img", leave=False
    ):
        maps = trunk((image.to(device).unsqueeze(0).float() - mean) / std)
        pooled = [
            roi_align(maps[level], [boxes.to(device)], 7, stride, 2, aligned=True).mean((2, 3))
            for level, stride in PROBE_LEVELS.items()
        ]
        features.append(F.normalize(torch.cat([F.normalize(p, dim=1) for p in pooled], dim=1), dim=1).cpu())
    return torch.cat(features)


def knn_predict(train_x: Tensor, train_y: Tensor, test_x: Tensor, k: int = 20, temperature: float = 0.07) -> Tensor:
    """Class of each test row by a vote of its ``k`` most similar train rows weighted ``exp(cos / T)``."""
    similarity = test_x @ train_x.T
    top, index = similarity.topk(min(k, train_x.shape[0]), dim=1)
    classes, neighbour = torch.unique(train_y, return_inverse=True)
    votes = torch.zeros(test_x.shape[0], len(classes))
    votes.scatter_add_(1, neighbour[index], (top / temperature).exp())
    return classes[votes.argmax(dim=1)]


def knn_probe(
    backbone: BackboneWithFPN,
    train: ProbeSet,
    tests: dict[str, ProbeSet],
    k: int = 20,
    device: torch.device | str = "cpu",
) -> dict[str, dict]:
    """Per test set: top-1 accuracy of the kNN classifier on its boxes, overall, per class and its mean over
    the classes (``class_mean``: on imbalanced sets, such as real SIXray's many guns, the overall top-1
    rewards features that vote for the common class), and the chance level."""
    train_x = box_features(backbone, train, device)
    results = {}
    for name, test in tests.items():
        correct = knn_predict(train_x, train.labels, box_features(backbone, test, device), k) == test.labels
        counts = Counter(test.labels.tolist())
        per_class = {
            test.categories.get(c, str(c)): float(correct[test.labels == c].float().mean()) for c in sorted(counts)
        }
        results[name] = {
            "top1": float(correct.float().mean()),
            "chance": max(counts.values()) / len(test.labels),
            "per_class": per_class,
            "class_mean": sum(per_class.values()) / len(per_class),
            "train_boxes": len(train.labels),
            "test_boxes": len(test.labels),
            "k": k,
        }
    return results
