"""SIXray in its release layout: ``JPEGImage/``, label CSVs under ``ImageSet/``, VOC xml boxes.

Labels are 1 (present), -1 (absent) and 0 (difficult). Real folders hold more images than the
CSVs list; those images are kept as unlabelled. The SIXray10/100/1000 subsets are rebuilt here
from a labelled pool with a fixed, seeded 4:1 train/test split.
"""
from __future__ import annotations

import codecs
import csv
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from segloc.data.paths import resolve_inside
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


def _label(value: str) -> int | None:
    """A label cell as 1, -1 or 0; None for anything else (0.5, 1.9, inf, text)."""
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number in (-1.0, 0.0, 1.0) else None


def read_label_csv(path: Path | str, skip_bad: bool = False) -> LabelTable:
    """Read ``name,Gun,Knife,...`` rows. A line that is not UTF-8, has a wrong column count, a label
    other than 1 / -1 / 0, or repeats an image name is an error (or skipped)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: label CSV not found")
    bad = BadRecords(path, skip_bad)
    lines = path.read_bytes().removeprefix(codecs.BOM_UTF8).splitlines()
    header = _csv_row(lines[0], path, 1) if lines else None
    if not header or header[0].strip().lower() != "name" or len(header) < 2:
        raise DatasetError(f"{path}: header must be 'name,<class>,...', got {header}")
    classes = [h.strip() for h in header[1:]]
    rows: dict[str, list[int]] = {}
    first_line: dict[str, int] = {}
    for line_no, raw in enumerate(lines[1:], start=2):
        try:
            row = _csv_row(raw, path, line_no)
        except DatasetError as exc:
            bad.report_error(exc)
            continue
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(header):
            bad.report(f"line {line_no}: {len(row)} columns, the header has {len(header)}")
            continue
        values = [_label(v) for v in row[1:]]
        if any(v is None for v in values):
            bad.report(f"line {line_no}: labels must be 1, -1 or 0, got {row[1:]}")
            continue
        name = Path(row[0].strip()).stem
        if not name:
            bad.report(f"line {line_no}: no image name")
        elif name in rows:
            bad.report(f"line {line_no}: image {name} is listed again (first on line {first_line[name]})")
        else:
            rows[name] = [v for v in values if v is not None]
            first_line[name] = line_no
    bad.warn_summary()
    return LabelTable(path, classes, rows)


def _csv_row(raw: bytes, path: Path, line_no: int) -> list[str]:
    """One CSV line's cells; bytes that are not UTF-8 are an error naming the line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: line {line_no}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    return next(csv.reader([text]), [])


def _coordinate(box_el: ElementTree.Element, key: str, path: Path, index: int) -> float:
    """One finite box coordinate of object ``index``; anything else is an error naming the record."""
    text = box_el.findtext(key)
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DatasetError(f"{path}: object {index + 1}: {key} {text!r} is not a finite number")
    return value


def read_voc_xml(path: Path | str) -> VocAnnotation:
    """Parse a VOC annotation safely (no entity expansion). Objects without a box (or with a
    degenerate one) are kept empty; a box with a missing or non-finite coordinate is an error."""
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
    except (TypeError, ValueError, OverflowError):
        width = height = 0
    ann = VocAnnotation(path, root.findtext("filename", default=path.stem + ".jpg"), width, height)
    for index, obj in enumerate(root.iter("object")):
        name = (obj.findtext("name") or "").strip()
        box_el = obj.find("bndbox")
        box = None
        if box_el is not None:
            box = tuple(_coordinate(box_el, k, path, index) for k in ("xmin", "ymin", "xmax", "ymax"))
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

    def image_files(self) -> list[str]:
        """File names of every image in ``JPEGImage/``, sorted."""
        return sorted(p.name for p in self.image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)

    def image_names(self) -> list[str]:
        """Stems of every image in ``JPEGImage/``, sorted."""
        return sorted(Path(name).stem for name in self.image_files())

    def image_path(self, name: str) -> Path:
        """The image file of ``name``; a link leading out of ``JPEGImage/`` is refused."""
        for suffix in (".jpg", ".png", ".jpeg", ".JPG"):
            path = self.image_dir / f"{name}{suffix}"
            if path.is_file():
                resolve_inside(self.image_dir, path.name, path)
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
        if not path.is_file():
            return None
        resolve_inside(self.annotation_dir, path.name, path)
        return read_voc_xml(path)

    def annotations(self, skip_bad: bool = False) -> dict[str, VocAnnotation]:
        """Every ``Annotation/*.xml`` by image name; a malformed one (or a link out of the folder)
        is an error, or with ``skip_bad`` left out with one warning."""
        if not self.annotation_dir.is_dir():
            return {}
        bad = BadRecords(self.annotation_dir, skip_bad)
        found = {}
        for path in sorted(self.annotation_dir.glob("*.xml")):
            try:
                resolve_inside(self.annotation_dir, path.name, path)
                found[path.stem] = read_voc_xml(path)
            except DatasetError as exc:
                bad.report_error(exc)
        bad.warn_summary()
        return found


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
