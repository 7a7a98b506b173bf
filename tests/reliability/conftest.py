"""The bad-input suite's fixtures: the real `segloc` entry point driven in-process, and tiny datasets
(COCO / PIDray / SIXray layouts, a few 64x48 scans) that each test breaks in its own copy."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from bad_inputs import Result, coco_dict, voc_xml, write_images  # noqa: E402

from segloc.cli.main import main  # noqa: E402


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run `segloc ARGS...` through its real entry point (error handling included)."""

    def run(*args: object) -> Result:
        monkeypatch.setattr(sys, "argv", ["segloc", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def coco(tmp_path: Path) -> tuple[Path, Path, dict]:
    """(json path, image folder, the dict): three PNG scans with one polygon each."""
    names = [f"s{i}.png" for i in range(3)]
    write_images(tmp_path / "imgs", names)
    data = coco_dict(names)
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data))
    return path, tmp_path / "imgs", data


@pytest.fixture
def pidray(tmp_path: Path) -> Path:
    """A PIDray-layout root: train (4 scans) and easy (2 scans) splits."""
    root = tmp_path / "pidray"
    for split, js, n in (("train", "xray_train.json", 4), ("easy", "xray_test_easy.json", 2)):
        names = [f"{split}{i}.png" for i in range(n)]
        write_images(root / split, names)
        (root / "annotations").mkdir(parents=True, exist_ok=True)
        (root / "annotations" / js).write_text(json.dumps(coco_dict(names)))
    return root


@pytest.fixture
def sixray(tmp_path: Path) -> Path:
    """A SIXray-layout root: 4 positives with xml boxes, 4 negatives, ImageSet/10/{train,test}.csv."""
    root = tmp_path / "sixray"
    positives, negatives = [f"P0000{i}" for i in range(1, 5)], [f"N000000{i}" for i in range(1, 5)]
    write_images(root / "JPEGImage", [f"{n}.jpg" for n in positives + negatives])
    (root / "Annotation").mkdir()
    for name in positives:
        (root / "Annotation" / f"{name}.xml").write_text(voc_xml(name, [("Knife", (8, 10, 28, 30))]))
    (root / "ImageSet" / "10").mkdir(parents=True)
    header = "name,Gun,Knife,Wrench,Pliers,Scissors\n"
    rows = [f"{n},-1,1,-1,-1,-1\n" for n in positives] + [f"{n},-1,-1,-1,-1,-1\n" for n in negatives]
    (root / "ImageSet" / "10" / "train.csv").write_text(header + "".join(rows[:3] + rows[4:7]))
    (root / "ImageSet" / "10" / "test.csv").write_text(header + rows[3] + rows[7])
    return root
