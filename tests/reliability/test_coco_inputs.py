"""Broken COCO files: one line naming the file and the record (exit 2), or skipped with --skip-bad."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from bad_inputs import assert_clean_error


def _break(data: dict, how: str) -> tuple[dict, str]:
    """Apply one defect to a valid COCO dict; return it with a word the error must name."""
    ann, img = data["annotations"][0], data["images"][0]
    if how == "bbox text":
        ann["bbox"] = "a"
    elif how == "bbox null":
        ann["bbox"] = None
    elif how == "bbox entry text":
        ann["bbox"] = [1, 2, "a", 4]
    elif how == "bbox nan":
        ann["bbox"] = [float("nan"), 2, 3, 4]
    elif how == "bbox inf":
        ann["bbox"] = [1, 2, float("inf"), 4]
    elif how == "polygon nan":
        ann["segmentation"] = [[1, 1, float("nan"), 1, 5, 5]]
    elif how == "polygon text":
        ann["segmentation"] = [[1, 1, "x", 1, 5, 5]]
    elif how == "rle garbage":
        ann["segmentation"] = {"size": [48, 64], "counts": "\x7f\x7f~~garbage"}
    elif how == "rle overlong":
        ann["segmentation"] = {"size": [48, 64], "counts": [0, 48 * 64 + 5]}
    elif how == "rle negative":
        ann["segmentation"] = {"size": [48, 64], "counts": [-3, 48 * 64 + 3]}
    elif how == "bbox huge int":
        ann["bbox"] = [10**400, 1, 2, 3]
    elif how == "category id list":
        ann["category_id"] = [1]
        return data, "unknown category id [1]"
    elif how == "area text":
        ann["area"] = "big"
    elif how == "annotation id text":
        ann["id"] = "one"
    elif how == "annotation id missing":
        del ann["id"]
    elif how == "duplicate annotation id":
        data["annotations"][1]["id"] = ann["id"]
        return data, "annotation id 1 is listed twice"
    elif how == "annotation not an object":
        data["annotations"][0] = "oops"
    elif how == "image id text":
        img["id"] = "abc"
        return data, "image record 'abc'"
    elif how == "image id missing":
        del img["id"]
        return data, "no integer 'id'"
    elif how == "image width text":
        img["width"] = "64"
        return data, "width"
    elif how == "file_name null":
        img["file_name"] = None
        return data, "file_name"
    elif how == "duplicate image id":
        data["images"][1]["id"] = img["id"]
        return data, "image id 1 is listed 2 times"
    elif how == "category id overwrite":
        data["categories"].append({"id": 1, "name": "Wrench"})
        return data, "category id 1 is listed twice"
    elif how == "category id text":
        data["categories"][0]["id"] = "1"
        return data, "category"
    elif how == "images a dict":
        data["images"] = {"1": img}
        return data, "'images' must be a list"
    elif how == "annotations a dict":
        data["annotations"] = {"0": ann}
        return data, "'annotations' must be a list"
    return data, "annotation"


CASES = ["bbox text", "bbox null", "bbox entry text", "bbox nan", "bbox inf", "bbox huge int", "category id list",
         "polygon nan", "polygon text",
         "rle garbage", "rle overlong", "rle negative", "area text", "annotation id text", "annotation id missing",
         "duplicate annotation id", "annotation not an object", "image id text", "image id missing",
         "image width text", "file_name null", "duplicate image id", "category id overwrite", "category id text",
         "images a dict", "annotations a dict"]


@pytest.mark.parametrize("how", CASES)
def test_broken_coco_record_is_one_line(cli, coco, how: str) -> None:
    path, images, data = coco
    data, word = _break(data, how)
    path.write_text(json.dumps(data))
    before = path.read_bytes()
    result = cli("data", "stats", path, "--format", "coco", "--images", images)
    assert_clean_error(result, str(path), word)
    assert path.read_bytes() == before


@pytest.mark.parametrize("how", ["bbox nan", "rle garbage", "duplicate image id", "image id text"])
def test_skip_bad_drops_the_broken_records(cli, coco, how: str, caplog) -> None:
    path, images, data = coco
    path.write_text(json.dumps(_break(data, how)[0]))
    with caplog.at_level(logging.WARNING, logger="segloc"):
        result = cli("data", "stats", path, "--format", "coco", "--images", images, "--json", "--skip-bad")
    assert result.code == 0, result.err
    stats = json.loads(result.out)
    assert stats["boxes"] < 3 and "skipped" in caplog.text


def test_duplicate_image_ids_are_never_merged(coco) -> None:
    from segloc.data import load_coco

    path, images, data = coco
    data["images"][1]["id"] = 1
    path.write_text(json.dumps(data))
    ds = load_coco(path, images, skip_bad=True)
    assert [r.file_name for r in ds.images] == ["s2.png"]
    assert all(inst.id == 3 for r in ds.images for inst in r.instances)


def test_valid_rle_strings_still_load(coco) -> None:
    import numpy as np
    from pycocotools import mask as mask_utils

    from segloc.data import load_coco

    path, images, data = coco
    mask = np.zeros((48, 64), np.uint8, order="F")
    mask[10:30, 8:28] = 1
    for k, counts in enumerate((mask_utils.encode(mask)["counts"].decode(), [394] + [20, 28] * 19 + [20, 1746])):
        data["annotations"][k]["segmentation"] = {"size": [48, 64], "counts": counts}
    path.write_text(json.dumps(data))
    ds = load_coco(path, images)
    for rec in ds.images[:2]:
        assert (ds.instance_mask(rec, rec.instances[0]) == mask).all()


def test_path_escape_and_missing_file(cli, coco, tmp_path: Path) -> None:
    path, images, data = coco
    outside = tmp_path / "outside.png"
    outside.write_bytes((images / "s0.png").read_bytes())
    (images / "link.png").symlink_to(outside)
    data["images"][0]["file_name"] = "link.png"
    path.write_text(json.dumps(data))
    assert_clean_error(cli("data", "stats", path, "--format", "coco", "--images", images), "escapes")
    assert_clean_error(cli("data", "stats", tmp_path / "nope.json", "--format", "coco"), "nope.json", "not found")
