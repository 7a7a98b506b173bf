"""YOLO and VOC labels read as COCO sets, conversion between COCO / VOC / YOLO, and PIDray's val split."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from segloc.cli.data import app
from segloc.data import convert_labels, dataset_stats, detect_format, load_annotations, load_pidray, load_voc, load_yolo
from segloc.errors import DatasetError

SIZE = (200, 100)  # width, height


def _images(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        cv2.imwrite(str(folder / name), np.full((SIZE[1], SIZE[0], 3), 240, np.uint8))
    return folder


def _yolo(root: Path) -> Path:
    """Ultralytics layout: images/train/*.png, labels/train/*.txt, data.yaml with names."""
    _images(root / "images" / "train", ["a.png", "b.png", "c.png"])
    labels = root / "labels" / "train"
    labels.mkdir(parents=True)
    (labels / "a.txt").write_text("0 0.5 0.5 0.2 0.4\n1 0.1 0.2 0.1 0.2\n")
    (labels / "b.txt").write_text("2 0.25 0.5 0.5 0.5 0.5 0.75\n")  # a triangle (segmentation label)
    (root / "data.yaml").write_text("names: {0: Gun, 1: Knife, 2: Wrench}\n")
    return labels


def test_yolo_boxes_polygons_and_background_images(tmp_path):
    ds = load_yolo(_yolo(tmp_path))
    assert ds.categories == {1: "Gun", 2: "Knife", 3: "Wrench"}
    assert ds.image_root == tmp_path / "images" / "train"
    by_name = {r.file_name: r for r in ds.images}
    assert set(by_name) == {"a.png", "b.png", "c.png"} and by_name["c.png"].instances == []
    gun, knife = by_name["a.png"].instances
    assert gun.category_id == 1 and gun.bbox == pytest.approx((80, 30, 40, 40))
    assert knife.category_id == 2 and knife.bbox == pytest.approx((10, 10, 20, 20))
    (wrench,) = by_name["b.png"].instances
    assert wrench.bbox == pytest.approx((50, 50, 50, 25)) and wrench.has_mask
    assert detect_format(tmp_path / "labels" / "train") == "yolo"


@pytest.mark.parametrize("line, problem", [("7 0.5 0.5 0.1 0.1", "class 7 outside"), ("0 0.5 0.5 0.1", "4 fields"),
                                           ("0 0.95 0.5 0.3 0.1", "outside the image"), ("0 0.5 0.5 0 0.1", "no area")])
def test_yolo_bad_lines_name_file_and_line(tmp_path, line, problem, caplog):
    labels = _yolo(tmp_path)
    (labels / "c.txt").write_text(f"0 0.5 0.5 0.1 0.1\n{line}\n")
    with pytest.raises(DatasetError, match=f"c.txt line 2: .*{problem}"):
        load_yolo(labels)
    with caplog.at_level(logging.WARNING, logger="segloc"):
        ds = load_yolo(labels, skip_bad=True)
    assert "skipped 1 bad record" in caplog.text
    assert len(next(r for r in ds.images if r.file_name == "c.png").instances) == 1


def test_yolo_label_without_image_and_missing_class_file(tmp_path):
    labels = _yolo(tmp_path)
    (labels / "ghost.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DatasetError, match="ghost.txt: label file without an image"):
        load_yolo(labels)
    (tmp_path / "data.yaml").unlink()
    (labels / "ghost.txt").unlink()
    with pytest.raises(DatasetError, match="no class names file"):
        load_yolo(labels)


def _voc(root: Path) -> Path:
    _images(root / "JPEGImages", ["x.jpg", "y.jpg"])
    ann = root / "Annotations"
    ann.mkdir(parents=True)
    obj = "<object><name>{}</name><bndbox><xmin>{}</xmin><ymin>{}</ymin><xmax>{}</xmax><ymax>{}</ymax></bndbox></object>"
    for name, objects in (("x", [("Knife", 10, 20, 50, 60), ("Gun", 150, 10, 210, 40)]), ("y", [("Gun", 5, 5, 25, 15)])):
        body = "".join(obj.format(*o) for o in objects) + "<object><name>Gun</name></object>"
        (ann / f"{name}.xml").write_text(f"<annotation><filename>{name}.jpg</filename><size><width>{SIZE[0]}</width>"
                                         f"<height>{SIZE[1]}</height></size>{body}</annotation>")
    return ann


def test_voc_folder_reads_boxes_clipped_and_sorted_class_names(tmp_path):
    ds = load_voc(_voc(tmp_path))
    assert ds.categories == {1: "Gun", 2: "Knife"}
    x = next(r for r in ds.images if r.file_name == "x.jpg")
    assert [(i.category_id, i.bbox) for i in x.instances] == [(2, (10, 20, 40, 40)), (1, (150, 10, 50, 30))]
    assert detect_format(tmp_path / "Annotations") == "voc"
    (tmp_path / "JPEGImages" / "y.jpg").unlink()
    with pytest.raises(DatasetError, match="y.xml: image 'y.jpg' not found"):
        load_voc(tmp_path / "Annotations")
    with pytest.raises(DatasetError, match="class 'Gun' is not in the class names"):
        (tmp_path / "names.txt").write_text("Knife\n")
        load_voc(tmp_path / "Annotations", classes=tmp_path / "names.txt", skip_bad=False)


@pytest.mark.parametrize("first, second", [("coco", "voc"), ("voc", "yolo"), ("yolo", "coco")])
def test_conversion_round_trip_keeps_boxes_and_classes(tmp_path, first, second):
    source = load_yolo(_yolo(tmp_path / "src"))
    images = source.image_root
    a = tmp_path / ("a.json" if first == "coco" else "a")
    b = tmp_path / ("b.json" if second == "coco" else "b")
    convert_labels(tmp_path / "src" / "labels" / "train", first, a)
    convert_labels(a, second, b, images=images)
    back = load_annotations(b, images)
    assert back.categories == source.categories
    for want, got in zip(sorted(source.images, key=lambda r: r.file_name), sorted(back.images, key=lambda r: r.file_name)):
        assert want.file_name == got.file_name
        assert [i.category_id for i in got.instances] == [i.category_id for i in want.instances]
        for i, j in zip(want.instances, got.instances):
            assert j.bbox == pytest.approx(i.bbox, abs=0.02)


def test_cli_convert_and_stats(tmp_path):
    labels = _yolo(tmp_path / "yolo")
    runner = CliRunner()
    out = tmp_path / "coco.json"
    result = runner.invoke(app, ["convert", str(labels), "--to", "coco", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 images, 3 objects, 3 classes" in result.output
    assert json.loads(out.read_text())["categories"][2] == {"id": 3, "name": "Wrench"}
    result = runner.invoke(app, ["convert", str(labels), "--to", "coco", "--out", str(out)])
    assert result.exit_code != 0 and "exists; pass --overwrite" in str(result.exception)
    result = runner.invoke(app, ["convert", str(labels), "--to", "voc", "--out", str(labels)])
    assert result.exit_code != 0 and "not empty; pass --overwrite" in str(result.exception)
    result = runner.invoke(app, ["stats", str(labels), "--format", "yolo", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["objects_per_class"] == {"Gun": 1, "Knife": 1, "Wrench": 1}
    result = runner.invoke(app, ["stats", str(labels), "--format", "voc"])
    assert result.exit_code != 0 and "holds yolo labels, not voc" in str(result.exception)


def test_real_pidray_samples_in_yolo(real_samples):
    ds = load_annotations(real_samples / "pidray")
    assert len(ds.categories) == 12 and ds.categories[1] == "Baton"
    assert len(ds.images) == 3 and sum(len(r.instances) for r in ds.images) == 5
    for record in ds.images:
        for inst in record.instances:
            x, y, w, h = inst.bbox
            assert 0 <= x and x + w <= record.width + 1 and 0 <= y and y + h <= record.height + 1


def test_pidray_val_split_is_read_and_unknown_files_are_named(tmp_path, caplog):
    for split in ("train", "val"):
        _images(tmp_path / split, ["s.png"])
        (tmp_path / "annotations").mkdir(exist_ok=True)
        coco = {"images": [{"id": 1, "file_name": "s.png", "width": SIZE[0], "height": SIZE[1]}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}],
                "categories": [{"id": 1, "name": "Gun"}]}
        (tmp_path / "annotations" / f"{split}.json").write_text(json.dumps(coco))
    (tmp_path / "annotations" / "extra.json").write_text("{}")
    with caplog.at_level(logging.WARNING, logger="segloc"):
        splits = load_pidray(tmp_path)
    assert set(splits) == {"train", "val"}
    assert "extra.json not read" in caplog.text
    assert set(dataset_stats(tmp_path, "pidray")["splits"]) == {"train", "val"}
