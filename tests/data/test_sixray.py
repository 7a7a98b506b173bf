import json
import logging

import pytest
from typer.testing import CliRunner

from segloc.cli.main import app
from segloc.data import (
    SixrayRoot,
    build_subsets,
    dataset_stats,
    read_label_csv,
    read_voc_xml,
    sixray_to_coco,
    write_subsets,
)
from segloc.errors import DatasetError


def test_real_sixray_samples_exact_counts(real_samples):
    stats = dataset_stats(real_samples / "sixray", "sixray")
    assert (stats["images"], stats["positives"], stats["negatives"]) == (12, 4, 8)
    assert stats["unlabelled_images"] == 4
    csv = stats["label_csvs"]["10/train"]
    assert (csv["rows"], csv["positives"], csv["negatives"]) == (8, 4, 4)
    assert csv["present_per_class"] == {"Gun": 0, "Knife": 4, "Wrench": 0, "Pliers": 0, "Scissors": 0}
    assert stats["annotations"]["files"] == 4
    assert stats["annotations"]["boxes_per_class"] == {
        "Knife": sum(len(read_voc_xml(p).objects) for p in (real_samples / "sixray" / "Annotation").glob("*.xml"))
    }


def test_cli_stats_json_on_real_samples(real_samples):
    result = CliRunner().invoke(app, ["data", "stats", str(real_samples / "sixray"), "--format", "sixray", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["unlabelled_images"] == 4


def test_voc_float_boxes_and_empty_objects(tmp_path):
    xml = tmp_path / "P1.xml"
    xml.write_text(
        "<annotation><filename>P1.jpg</filename><size><width>100</width><height>50</height></size>"
        "<object><name>Gun</name><bndbox><xmin>1.5</xmin><ymin>2</ymin><xmax>30.25</xmax><ymax>40</ymax></bndbox></object>"
        "<object><name>Knife</name></object></annotation>"
    )
    ann = read_voc_xml(xml)
    assert (ann.width, ann.height) == (100, 50)
    assert ann.objects[0].box == (1.5, 2.0, 30.25, 40.0)
    assert ann.objects[1].box is None


def test_xml_entity_expansion_refused(tmp_path):
    xml = tmp_path / "bomb.xml"
    xml.write_text(
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "bbbbbbbb"><!ENTITY c "&b;&b;&b;&b;">]>'
        "<annotation><filename>&c;</filename></annotation>"
    )
    with pytest.raises(DatasetError, match="unsafe or malformed"):
        read_voc_xml(xml)


def test_csv_wrong_column_count(tmp_path, caplog):
    path = tmp_path / "train.csv"
    path.write_text("name,Gun,Knife,Wrench,Pliers,Scissors\nP1,1,-1,-1,-1,-1\nP2,1,-1\nN3,-1,-1,-1,-1,-1\n")
    with pytest.raises(DatasetError, match="line 3: 3 columns"):
        read_label_csv(path)
    with caplog.at_level(logging.WARNING, logger="segloc"):
        table = read_label_csv(path, skip_bad=True)
    assert list(table.rows) == ["P1", "N3"] and "skipped 1 bad record" in caplog.text
    assert table.positives() == ["P1"] and table.negatives() == ["N3"]


def test_subset_builder_ratios_and_fixed_split(tmp_path):
    classes = ["Gun", "Knife", "Wrench", "Pliers", "Scissors", "Hammer"]
    labels = {f"P{i:05d}": [1 if i % 5 == c else -1 for c in range(6)] for i in range(50)}
    labels.update({f"N{i:07d}": [-1] * 6 for i in range(700)})
    subsets = build_subsets(labels, classes, seed=3, positives_per_class_1000=4)
    train, test = subsets["10"]
    assert len(train) + len(test) == 50 + 500 and len(train) == 440
    assert sum(n.startswith("P") for n in train + test) == 50
    assert len(subsets["100"][0]) + len(subsets["100"][1]) == 750  # only 700 negatives exist
    s1000 = subsets["1000"][0] + subsets["1000"][1]
    assert sum(n.startswith("P") for n in s1000) == 20 and sum(n.startswith("N") for n in s1000) == 700
    assert build_subsets(labels, classes, seed=3, positives_per_class_1000=4) == subsets
    assert build_subsets(labels, classes, seed=4, positives_per_class_1000=4) != subsets
    write_subsets(tmp_path, subsets, labels, classes)
    table = read_label_csv(tmp_path / "ImageSet" / "10" / "test.csv")
    assert table.class_names == classes and len(table.rows) == 110


def test_sixray_to_coco(real_samples, tmp_path):
    data = sixray_to_coco(real_samples / "sixray", tmp_path / "six.json")
    assert len(data["images"]) == 4
    assert all(a["category_id"] == 2 for a in data["annotations"])  # Knife
    stats = dataset_stats(tmp_path / "six.json", "coco", images=real_samples / "sixray" / "JPEGImage")
    assert stats["boxes"] == len(data["annotations"]) and stats["masks"] == 0


def test_not_a_sixray_root(tmp_path):
    with pytest.raises(DatasetError, match="no JPEGImage"):
        SixrayRoot(tmp_path)
