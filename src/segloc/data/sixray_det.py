"""The box-only SIXray detection layout real scans are read from: ``sixray-det/annotations/<split>.json``
(COCO, boxes only) beside ``sixray-det/<split>/`` for train, val and, when present, test."""

from __future__ import annotations

from pathlib import Path

from segloc.data.coco import CocoDataset, ImageCheck, load_coco

SIXRAY_DET = "sixray-det"


def sixray_det_split(root: Path | str, split: str) -> tuple[Path, Path]:
    """(COCO json, image folder) of one split of the layout under ``root``."""
    base = Path(root) / SIXRAY_DET
    return base / "annotations" / f"{split}.json", base / split


def has_sixray_det(root: Path | str) -> bool:
    """Whether ``root`` holds the layout (its train split's json at least)."""
    return sixray_det_split(root, "train")[0].is_file()


def load_sixray_det(
    root: Path | str, splits: tuple[str, ...], check_images: ImageCheck = "exists"
) -> dict[str, CocoDataset]:
    """The splits of ``splits`` present under ``root``, by name."""
    present = [s for s in splits if sixray_det_split(root, s)[0].is_file()]
    return {s: load_coco(*sixray_det_split(root, s), check_images=check_images) for s in present}
