"""The SIXray side of the tiny preset: file names, VOC xml for positives, label CSVs of the subsets."""

from __future__ import annotations

import csv
import re

from PIL import Image

from segloc.data.sixray import SIXRAY_ALL_CLASSES as SIXRAY_CLASSES
from segloc.data.sixray import read_label_csv, read_voc_xml

HEADER = ["name", "Gun", "Knife", "Wrench", "Pliers", "Scissors", "Hammer"]


def test_file_names_and_jpegs(tiny):
    out, summary = tiny
    names = sorted(p.name for p in (out / "sixray" / "JPEGImage").iterdir())
    positives = [n for n in names if n.startswith("P")]
    negatives = [n for n in names if n.startswith("N")]
    assert len(positives) == summary["sixray"]["positives"] == 40
    assert len(negatives) == summary["sixray"]["negatives"] == 120
    assert all(re.fullmatch(r"P\d{5}\.jpg", n) for n in positives)
    assert all(re.fullmatch(r"N\d{7}\.jpg", n) for n in negatives)
    with Image.open(out / "sixray" / "JPEGImage" / positives[0]) as im:
        assert im.format == "JPEG" and im.mode == "RGB"


def test_every_positive_has_a_parseable_xml_matching_its_labels(tiny):
    out, _ = tiny
    root = out / "sixray"
    labels = read_label_csv(root / "ImageSet" / "10" / "train.csv").rows
    labels.update(read_label_csv(root / "ImageSet" / "10" / "test.csv").rows)
    for name, values in labels.items():
        xml = root / "Annotation" / f"{name}.xml"
        if name.startswith("N"):
            assert values == [-1] * len(SIXRAY_CLASSES) and not xml.exists()
            continue
        ann = read_voc_xml(xml)
        assert ann.filename == f"{name}.jpg"
        with Image.open(root / "JPEGImage" / f"{name}.jpg") as im:
            assert (ann.width, ann.height) == im.size
        assert ann.objects and all(o.box is not None for o in ann.objects)
        for o in ann.objects:
            x1, y1, x2, y2 = o.box
            assert 0 <= x1 < x2 <= ann.width and 0 <= y1 < y2 <= ann.height
        present = {o.name for o in ann.objects}
        assert present == {c for c, v in zip(SIXRAY_CLASSES, values) if v == 1}


def test_label_csvs_of_the_three_subsets(tiny):
    out, summary = tiny
    for subset in ("10", "100", "1000"):
        members = []
        for split in ("train", "test"):
            path = out / "sixray" / "ImageSet" / subset / f"{split}.csv"
            with open(path, newline="") as f:
                rows = list(csv.reader(f))
            assert rows[0] == HEADER
            assert all(len(r) == len(HEADER) and set(r[1:]) <= {"1", "-1", "0"} for r in rows[1:])
            members.append({r[0] for r in rows[1:]})
            assert summary["sixray"]["subsets"][subset][split] == len(rows) - 1
        train, test = members
        assert train and test and not train & test
        assert len(train) > 3 * len(test)
    all10 = {r for s in ("train", "test") for r in read_label_csv(out / "sixray" / "ImageSet" / "10" / f"{s}.csv").rows}
    assert {n for n in all10 if n.startswith("P")} == {f"P{i:05d}" for i in range(1, 41)}
