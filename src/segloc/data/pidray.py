"""PIDray root discovery: the COCO files of each split, found by their release names."""
from __future__ import annotations

from pathlib import Path

from segloc.data.coco import CocoDataset, ImageCheck, load_coco
from segloc.errors import DatasetError, log

# split -> (annotation file, image folder), for the ICCV 2021 release and the later one; a held-out
# validation split (to tune on, never a test split) is read in either layout when present.
PIDRAY_LAYOUTS: tuple[dict[str, tuple[str, str]], ...] = (
    {
        "train": ("xray_train.json", "train"),
        "val": ("xray_val.json", "val"),
        "easy": ("xray_test_easy.json", "easy"),
        "hard": ("xray_test_hard.json", "hard"),
        "hidden": ("xray_test_hidden.json", "hidden"),
    },
    {"train": ("train.json", "train"), "val": ("val.json", "val"), "test": ("test.json", "test")},
)
TEST_SPLITS = ("easy", "hard", "hidden")
NOT_TEST = ("train", "val")


def find_pidray_splits(root: Path | str) -> dict[str, tuple[Path, Path]]:
    """Map each split present under ``root`` to its (annotation json, image folder)."""
    root = Path(root)
    ann_dir = root / "annotations"
    for layout in PIDRAY_LAYOUTS:
        found = {split: (ann_dir / js, root / folder) for split, (js, folder) in layout.items()
                 if (ann_dir / js).is_file()}
        if found:
            unread = sorted(p.name for p in ann_dir.glob("*.json") if p not in {js for js, _ in found.values()})
            if unread:
                log.warning("%s: %s not read (not a split name of this PIDray layout: %s)", ann_dir,
                            ", ".join(unread), ", ".join(js for js, _ in layout.values()))
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
