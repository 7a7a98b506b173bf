"""COCO records -> detection training samples and evaluation images, plus the label <-> category map."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from segloc.data import CocoDataset, ImageRecord, decode_segmentation, read_rgb
from segloc.detection.forward import prepare_image
from segloc.detection.transforms import Compose, to_tensors
from segloc.errors import DatasetError


@dataclass(frozen=True)
class CategoryMap:
    """COCO category ids <-> contiguous detector labels 1..K (0 is background)."""

    ids: tuple[int, ...]
    names: tuple[str, ...]

    @classmethod
    def from_dataset(cls, dataset: CocoDataset) -> CategoryMap:
        ids = tuple(dataset.category_ids)
        return cls(ids, tuple(dataset.categories[i] for i in ids))

    @property
    def num_classes(self) -> int:
        return len(self.ids)

    def label(self, category_id: int) -> int:
        return self.ids.index(category_id) + 1

    def category(self, label: int) -> int:
        return self.ids[label - 1]

    def name(self, label: int) -> str:
        return self.names[label - 1]

    def to_dict(self) -> dict[str, list]:
        return {"ids": list(self.ids), "names": list(self.names)}

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> CategoryMap:
        return cls(tuple(int(i) for i in data["ids"]), tuple(str(n) for n in data["names"]))

    def match_by_name(self, dataset: CocoDataset) -> dict[int, int]:
        """Model category id -> the id ``dataset`` gives the same class name (case and surrounding spaces
        ignored), so a model is scored on any set that names its classes, whatever the ids. A class of the
        dataset the model does not know is an error naming both class lists."""
        ours = {name.strip().casefold(): cat for cat, name in zip(self.ids, self.names)}
        unknown = [n for n in dataset.categories.values() if n.strip().casefold() not in ours]
        if unknown:
            raise DatasetError(f"{dataset.json_path}: class(es) {unknown} unknown to the model; the data's classes: "
                               f"{list(dataset.categories.values())}; the model's: {list(self.names)}")
        return {ours[name.strip().casefold()]: cat for cat, name in dataset.categories.items()}


def read_image_checked(record: ImageRecord) -> np.ndarray:
    """Decode a record's image, checking its size against the annotation file."""
    image = read_rgb(record.path)
    if image.shape[:2] != (record.height, record.width):
        raise DatasetError(f"{record.path}: image is {image.shape[1]}x{image.shape[0]} but the annotation "
                           f"file says {record.width}x{record.height}")
    return image


def record_sample(record: ImageRecord, categories: CategoryMap, masks: bool) -> dict[str, np.ndarray]:
    """Image, boxes (xyxy), labels and (optionally) masks of one record; crowd regions are left out.

    In mask mode an instance without a segmentation gets its box as mask.
    """
    image = read_image_checked(record)
    instances = [inst for inst in record.instances if not inst.iscrowd]
    sample = {
        "image": image,
        "boxes": np.array([inst.box_xyxy for inst in instances], dtype=np.float32).reshape(-1, 4),
        "labels": np.array([categories.label(inst.category_id) for inst in instances], dtype=np.int64),
    }
    if masks:
        stack = np.zeros((len(instances), record.height, record.width), dtype=np.uint8)
        for k, inst in enumerate(instances):
            if inst.has_mask:
                stack[k] = decode_segmentation(inst.segmentation, record.height, record.width)
            else:
                x1, y1, x2, y2 = (int(round(v)) for v in inst.box_xyxy)
                stack[k, y1:y2, x1:x2] = 1
        sample["masks"] = stack
    return sample


class DetectionDataset(Dataset):
    """Training samples of a COCO dataset; augmentation is seeded by (seed, epoch, index)."""

    def __init__(self, coco: CocoDataset, categories: CategoryMap, transforms: Compose,
                 masks: bool, seed: int = 0, max_images: int | None = None) -> None:
        records = [r for r in coco.images if any(not i.iscrowd for i in r.instances)]
        if not records:
            raise DatasetError(f"{coco.json_path}: no image has an annotated (non-crowd) instance to train on")
        self.records = records[:max_images] if max_images else records
        self.categories = categories
        self.transforms = transforms
        self.masks = masks
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        sample = record_sample(self.records[index], self.categories, self.masks)
        rng = np.random.default_rng([self.seed, self.epoch, index])
        sample = self.transforms(sample, rng)
        keep = (sample["boxes"][:, 2] > sample["boxes"][:, 0]) & (sample["boxes"][:, 3] > sample["boxes"][:, 1])
        sample = {k: (v[keep] if k != "image" else v) for k, v in sample.items()}
        return to_tensors(sample)


class ImageDataset(Dataset):
    """Scans for inference: decoded and, given the detector's input size (``long_side``), resized to
    its input in the loader (its workers), so the device gets small float images; items are
    (image, (H, W), id)."""

    def __init__(self, paths: list[Path], ids: list[int] | None = None, records: list[ImageRecord] | None = None,
                 long_side: int | None = None) -> None:
        self.paths = paths
        self.ids = ids if ids is not None else list(range(len(paths)))
        self.records = records
        self.long_side = long_side

    @classmethod
    def from_coco(cls, coco: CocoDataset, long_side: int | None = None) -> ImageDataset:
        return cls([r.path for r in coco.images], [r.id for r in coco.images], list(coco.images), long_side)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, tuple[int, int], int]:
        image = read_image_checked(self.records[index]) if self.records else read_rgb(self.paths[index])
        tensor = torch.from_numpy(image)
        if self.long_side is None:
            return tensor.permute(2, 0, 1).float().div_(255.0), image.shape[:2], self.ids[index]
        return prepare_image(tensor, self.long_side), image.shape[:2], self.ids[index]


def collate(batch: list[tuple]) -> tuple[list, ...]:
    """Keep each field as a list (image sizes differ); the detector batches images itself."""
    return tuple(list(field) for field in zip(*batch))
