"""SIXray in its release layout: ``JPEGImage/``, label CSVs under ``ImageSet/``, VOC xml boxes.

Labels are 1 (present), -1 (absent) and 0 (difficult). Real folders hold more images than the
CSVs list; those images are kept as unlabelled. The SIXray10/100/1000 subsets are rebuilt here
from a labelled pool with a fixed, seeded 4:1 train/test split.
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from segloc.errors import BadRecords, DatasetError

SIXRAY_CLASSES = ("Gun", "Knife", "Wrench", "Pliers", "Scissors")  # the paper's benchmark
SIXRAY_ALL_CLASSES = SIXRAY_CLASSES + ("Hammer",)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class LabelTable:
    """Image-level labels of one CSV: class names in column order, name -> values (1/-1/0)."""

    path: Path
    class_names: list[str]
    rows: dict[str, list[int]]

    def positives(self) -> list[str]:
        return [n for n, v in self.rows.items() if any(x == 1 for x in v)]

    def negatives(self) -> list[str]:
        return [n for n, v in self.rows.items() if not any(x == 1 for x in v)]


@dataclass(frozen=True)
class VocObject:
    """One object of a VOC xml file: class name and box (xmin, ymin, xmax, ymax), None if empty."""

    name: str
    box: tuple[float, float, float, float] | None


@dataclass
class VocAnnotation:
    path: Path
    filename: str
    width: int
    height: int
    objects: list[VocObject] = field(default_factory=list)


def read_label_csv(path: Path | str, skip_bad: bool = False) -> LabelTable:
    """Read ``name,Gun,Knife,...`` rows; a wrong column count or value is an error (or skipped)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: label CSV not found")
    bad = BadRecords(path, skip_bad)
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header or header[0].strip().lower() != "name" or len(header) < 2:
            raise DatasetError(f"{path}: header must be 'name,<class>,...', got {header}")
        classes = [h.strip() for h in header[1:]]
        rows: dict[str, list[int]] = {}
        for line_no, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) != len(header):
                bad.report(f"line {line_no}: {len(row)} columns, the header has {len(header)}")
                continue
            try:
                values = [int(float(v)) for v in row[1:]]
            except ValueError:
                bad.report(f"line {line_no}: non-numeric label in {row}")
                continue
            if any(v not in (-1, 0, 1) for v in values):
                bad.report(f"line {line_no}: labels must be 1, -1 or 0, got {values}")
                continue
            rows[Path(row[0].strip()).stem] = values
    bad.warn_summary()
    return LabelTable(path, classes, rows)


def read_voc_xml(path: Path | str) -> VocAnnotation:
    """Parse a VOC annotation safely (no entity expansion); objects without a box are kept empty."""
    path = Path(path)
    try:
        root = ElementTree.parse(str(path)).getroot()
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: annotation file not found") from exc
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise DatasetError(f"{path}: unsafe or malformed XML: {exc}") from exc
    size = root.find("size")
    try:
        width = int(float(size.findtext("width"))) if size is not None else 0
        height = int(float(size.findtext("height"))) if size is not None else 0
    except (TypeError, ValueError):
        width = height = 0
    ann = VocAnnotation(path, root.findtext("filename", default=path.stem + ".jpg"), width, height)
    for obj in root.iter("object"):
        name = (obj.findtext("name") or "").strip()
        box_el = obj.find("bndbox")
        box = None
        if box_el is not None:
            try:
                box = tuple(float(box_el.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
            except (TypeError, ValueError):
                box = None
        if box is not None and (box[2] <= box[0] or box[3] <= box[1]):
            box = None
        ann.objects.append(VocObject(name, box))
    return ann


@dataclass
class SixrayRoot:
    """A SIXray folder: its images, label CSVs (``ImageSet/<subset>/<split>.csv``) and xml boxes."""

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        if not self.image_dir.is_dir():
            raise DatasetError(f"{self.root}: no JPEGImage/ folder, not a SIXray root")

    @property
    def image_dir(self) -> Path:
        return self.root / "JPEGImage"

    @property
    def annotation_dir(self) -> Path:
        return self.root / "Annotation"

    def image_names(self) -> list[str]:
        """Stems of every image in ``JPEGImage/``, sorted."""
        return sorted(p.stem for p in self.image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)

    def image_path(self, name: str) -> Path:
        for suffix in (".jpg", ".png", ".jpeg", ".JPG"):
            path = self.image_dir / f"{name}{suffix}"
            if path.is_file():
                return path
        raise DatasetError(f"{self.image_dir}: no image named {name}")

    def label_csvs(self) -> dict[str, Path]:
        """``'<subset>/<split>'`` -> CSV path, for every CSV under ``ImageSet/``."""
        base = self.root / "ImageSet"
        if not base.is_dir():
            return {}
        return {p.relative_to(base).with_suffix("").as_posix(): p for p in sorted(base.rglob("*.csv"))}

    def labels(self, subset: str, split: str, skip_bad: bool = False) -> LabelTable:
        path = self.root / "ImageSet" / str(subset) / f"{split}.csv"
        return read_label_csv(path, skip_bad)

    def annotation(self, name: str) -> VocAnnotation | None:
        path = self.annotation_dir / f"{name}.xml"
        return read_voc_xml(path) if path.is_file() else None

    def annotations(self) -> dict[str, VocAnnotation]:
        if not self.annotation_dir.is_dir():
            return {}
        return {p.stem: read_voc_xml(p) for p in sorted(self.annotation_dir.glob("*.xml"))}


def build_subsets(
    labels: dict[str, list[int]],
    class_names: list[str],
    seed: int,
    negative_ratios: dict[str, int] | None = None,
    positives_per_class_1000: int = 1000,
    train_fraction: float = 0.8,
) -> dict[str, tuple[list[str], list[str]]]:
    """Build SIXray10/100 (all positives + ratio x negatives) and SIXray1000 (n positives per
    class + all negatives), each split train:test = train_fraction, random but fixed by ``seed``.

    Uses every negative when fewer exist than a ratio asks for. Returns name -> (train, test).
    """
    ratios = {"10": 10, "100": 100} if negative_ratios is None else negative_ratios
    rng = random.Random(seed)
    names = sorted(labels)
    positives = [n for n in names if any(v == 1 for v in labels[n])]
    negatives = [n for n in names if not any(v == 1 for v in labels[n])]
    if not positives:
        raise DatasetError("cannot build SIXray subsets: the pool has no positive image")
    shuffled_neg = negatives[:]
    rng.shuffle(shuffled_neg)
    subsets: dict[str, list[str]] = {}
    for name, ratio in ratios.items():
        subsets[name] = positives + shuffled_neg[: ratio * len(positives)]
    chosen: set[str] = set()
    for c in range(len(class_names)):
        with_c = [n for n in positives if labels[n][c] == 1]
        chosen.update(rng.sample(with_c, min(positives_per_class_1000, len(with_c))))
    subsets["1000"] = sorted(chosen) + negatives
    out = {}
    for name, members in subsets.items():
        members = sorted(members)
        rng.shuffle(members)
        cut = int(round(train_fraction * len(members)))
        out[name] = (sorted(members[:cut]), sorted(members[cut:]))
    return out


def write_subsets(
    root: Path | str,
    subsets: dict[str, tuple[list[str], list[str]]],
    labels: dict[str, list[int]],
    class_names: list[str],
) -> None:
    """Write ``ImageSet/<subset>/{train,test}.csv`` with the release header and 1/-1/0 values."""
    for name, (train, test) in subsets.items():
        folder = Path(root) / "ImageSet" / name
        folder.mkdir(parents=True, exist_ok=True)
        for split, members in (("train", train), ("test", test)):
            with open(folder / f"{split}.csv", "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(["name", *class_names])
                for member in members:
                    writer.writerow([member, *labels[member]])
