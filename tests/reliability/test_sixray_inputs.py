"""Broken SIXray label CSVs and VOC xml: one line naming the file and line/record, or skipped with --skip-bad."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from bad_inputs import assert_clean_error, voc_xml

HEADER = b"name,Gun,Knife,Wrench,Pliers,Scissors\n"


@pytest.mark.parametrize("line, word", [
    (b"P00001,0.5,1,-1,-1,-1\n", "labels must be 1, -1 or 0"),
    (b"P00001,-0.5,1,-1,-1,-1\n", "labels must be 1, -1 or 0"),
    (b"P00001,1.9,1,-1,-1,-1\n", "labels must be 1, -1 or 0"),
    (b"P00001,inf,1,-1,-1,-1\n", "labels must be 1, -1 or 0"),
    (b"P00001,nan,1,-1,-1,-1\n", "labels must be 1, -1 or 0"),
    (b"P0\xff\xfe001,1,1,-1,-1,-1\n", "not UTF-8"),
    (b"P00002,-1,1,-1,-1,-1\n", "P00002 is listed again (first on line 2)"),
])
def test_bad_label_row_is_one_line(cli, sixray: Path, line: bytes, word: str) -> None:
    csv = sixray / "ImageSet" / "10" / "train.csv"
    csv.write_bytes(HEADER + b"P00002,-1,1,-1,-1,-1\n" + line)
    result = cli("data", "stats", sixray, "--format", "sixray")
    assert_clean_error(result, str(csv), "line 3", word)


def test_skip_bad_leaves_bad_rows_out(cli, sixray: Path, caplog) -> None:
    csv = sixray / "ImageSet" / "10" / "train.csv"
    csv.write_bytes(HEADER + b"P00002,-1,1,-1,-1,-1\nP00001,0.5,1,-1,-1,-1\nP00002,1,-1,-1,-1,-1\n\xff\n")
    with caplog.at_level(logging.WARNING, logger="segloc"):
        result = cli("data", "stats", sixray, "--format", "sixray", "--json", "--skip-bad")
    assert result.code == 0, result.err
    table = json.loads(result.out)["label_csvs"]["10/train"]
    assert table["rows"] == 1 and table["present_per_class"]["Knife"] == 1  # the first P00002 row holds
    assert "skipped 3 bad record(s)" in caplog.text


@pytest.mark.parametrize("coordinate", ["nan", "inf", "-inf", "abc", ""])
def test_non_finite_voc_box_is_one_line(cli, sixray: Path, tmp_path: Path, coordinate: str) -> None:
    xml = sixray / "Annotation" / "P00001.xml"
    xml.write_text(voc_xml("P00001", [("Knife", (8, 10, coordinate, 30))]))
    out = tmp_path / "six.json"
    assert_clean_error(cli("data", "sixray-to-coco", sixray, "--out", out), str(xml), "xmax")
    assert not out.exists()
    assert_clean_error(cli("data", "stats", sixray, "--format", "sixray"), str(xml), "xmax")


@pytest.mark.parametrize("command", ["stats", "sixray-to-coco"])
def test_skip_bad_skips_malformed_xml(cli, sixray: Path, tmp_path: Path, command: str, caplog) -> None:
    (sixray / "Annotation" / "P00001.xml").write_text("<annotation><object>")
    args = ["--format", "sixray"] if command == "stats" else ["--out", tmp_path / "six.json"]
    assert_clean_error(cli("data", command, sixray, *args), "P00001.xml", "malformed XML")
    with caplog.at_level(logging.WARNING, logger="segloc"):
        result = cli("data", command, sixray, *args, "--skip-bad")
    assert result.code == 0, result.err
    assert "P00001.xml" in caplog.text and "skipped 1 bad record" in caplog.text
    if command == "sixray-to-coco":
        assert len(json.loads((tmp_path / "six.json").read_text())["images"]) == 3


@pytest.mark.parametrize("problem, word", [
    ("no image", "no image P00009"),
    ("outside", "lies outside the 64x48 image"),
    ("unknown class", "unknown class 'Bazooka'"),
])
def test_stats_flag_xml_problems(cli, sixray: Path, problem: str, word: str) -> None:
    if problem == "no image":
        (sixray / "Annotation" / "P00009.xml").write_text(voc_xml("P00009", [("Gun", (1, 1, 9, 9))]))
    elif problem == "outside":
        (sixray / "Annotation" / "P00001.xml").write_text(voc_xml("P00001", [("Gun", (10, 10, 300, 40))]))
    else:
        (sixray / "Annotation" / "P00001.xml").write_text(voc_xml("P00001", [("Bazooka", (1, 1, 9, 9))]))
    assert_clean_error(cli("data", "stats", sixray, "--format", "sixray"), word)
    result = cli("data", "stats", sixray, "--format", "sixray", "--json", "--skip-bad")
    assert result.code == 0 and json.loads(result.out)["skipped_records"] == 1


def test_links_out_of_the_dataset_are_refused(cli, sixray: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.jpg"
    secret.write_bytes((sixray / "JPEGImage" / "P00001.jpg").read_bytes())
    (sixray / "JPEGImage" / "P00001.jpg").unlink()
    (sixray / "JPEGImage" / "P00001.jpg").symlink_to(secret)
    assert_clean_error(cli("data", "sixray-to-coco", sixray, "--out", tmp_path / "a.json"), "P00001.jpg", "escapes")
    outside_xml = tmp_path / "P00002.xml"
    outside_xml.write_text(voc_xml("P00002", [("Knife", (8, 10, 28, 30))]))
    (sixray / "Annotation" / "P00002.xml").unlink()
    (sixray / "Annotation" / "P00002.xml").symlink_to(outside_xml)
    assert_clean_error(cli("data", "stats", sixray, "--format", "sixray"), "P00002.xml", "escapes")


def test_a_link_to_the_whole_image_folder_is_fine(cli, sixray: Path, tmp_path: Path) -> None:
    moved = tmp_path / "disk2" / "JPEGImage"
    moved.parent.mkdir()
    (sixray / "JPEGImage").rename(moved)
    (sixray / "JPEGImage").symlink_to(moved)
    result = cli("data", "sixray-to-coco", sixray, "--out", tmp_path / "a.json")
    assert result.code == 0, result.err
