"""PIDray root discovery: the COCO files of each split, found by their release names."""
from __future__ import annotations

from pathlib import Path

from segloc.data.coco import CocoDataset, ImageCheck, load_coco
from segloc.errors import DatasetError

# split -> (annotation file, image folder), for the ICCV 2021 release and the later one.
PIDRAY_LAYOUTS: tuple[dict[str, tuple[str, str]], ...] = (
    {
        "train": ("xray_train.json", "train"),
        "easy": ("xray_test_easy.json", "easy"),
        "hard": ("xray_test_hard.json", "hard"),
        "hidden": ("xray_test_hidden.json", "hidden"),
    },
    {"train": ("train.json", "train"), "test": ("test.json", "test")},
)
TEST_SPLITS = ("easy", "hard", "hidden")


def find_pidray_splits(root: Path | str) -> dict[str, tuple[Path, Path]]:
    """Map each split present under ``root`` to its (annotation json, image folder)."""
    root = Path(root)
    ann_dir = root / "annotations"
    for layout in PIDRAY_LAYOUTS:
        found = {split: (ann_dir / js, root / folder) for split, (js, folder) in layout.items()
                 if (ann_dir / js).is_file()}
        if found:
            return found
    expected = ", ".join(js for layout in PIDRAY_LAYOUTS for js, _ in layout.values())
    raise DatasetError(f"{root}: no PIDray annotation file found in {ann_dir} (expected one of: {expected})")


def load_pidray(
    root: Path | str, splits: tuple[str, ...] | None = None, skip_bad: bool = False,
    check_images: ImageCheck = "exists",
) -> dict[str, CocoDataset]:
    """Load the requested splits (all present ones by default) of a PIDray root."""
    available = find_pidray_splits(root)
    wanted = splits or tuple(available)
    missing = [s for s in wanted if s not in available]
    if missing:
        raise DatasetError(f"{root}: split(s) {missing} not found (present: {sorted(available)})")
    return {s: load_coco(*available[s], skip_bad=skip_bad, check_images=check_images) for s in wanted}
