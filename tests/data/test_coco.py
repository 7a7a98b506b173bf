import json
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from segloc.data import decode_segmentation, load_coco, load_pidray
from segloc.errors import DatasetError


def _write_dataset(tmp_path: Path, annotations: list[dict], images: list[dict] | None = None) -> tuple[Path, Path]:
    root = tmp_path / "imgs"
    root.mkdir(parents=True, exist_ok=True)
    images = images or [
        {"id": 1, "file_name": "a.png", "width": 40, "height": 30},
        {"id": 2, "file_name": "b.png", "width": 40, "height": 30},
    ]
    for im in images:
        if "/" not in im["file_name"]:
            cv2.imwrite(str(root / im["file_name"]), np.full((im["height"], im["width"], 3), 255, np.uint8))
    data = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 3, "name": "Gun"}, {"id": 7, "name": "Knife"}],
    }
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data))
    return path, root


def _ann(i: int, image_id: int = 1, cat: int = 3, bbox=(2, 3, 10, 8), seg="poly") -> dict:
    x, y, w, h = bbox
    poly = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    return {
        "id": i,
        "image_id": image_id,
        "category_id": cat,
        "bbox": list(bbox),
        "area": w * h,
        "iscrowd": 0,
        **({"segmentation": poly} if seg == "poly" else {} if seg is None else {"segmentation": seg}),
    }


def test_loads_polygons_rle_and_box_only(tmp_path):
    rle = mask_utils.encode(np.asfortranarray(np.pad(np.ones((5, 6), np.uint8), ((10, 15), (20, 14)))))
    rle["counts"] = rle["counts"].decode()
    anns = [_ann(1), _ann(2, image_id=2, cat=7, bbox=(20, 10, 6, 5), seg=rle), _ann(3, image_id=2, seg=None)]
    path, root = _write_dataset(tmp_path, anns)
    ds = load_coco(path, root, check_images="header")
    assert ds.categories == {3: "Gun", 7: "Knife"}
    assert len(ds) == 2 and [len(r.instances) for r in ds.images] == [1, 2]
    a, b = ds.images
    poly_mask = ds.instance_mask(a, a.instances[0])
    assert poly_mask.shape == (30, 40)
    ys, xs = np.nonzero(poly_mask)
    assert (xs.min(), ys.min(), xs.max(), ys.max()) == (2, 3, 11, 10)
    rle_mask = ds.instance_mask(b, b.instances[0])
    assert rle_mask.sum() == 30 and rle_mask[10:15, 20:26].all()
    assert not b.instances[1].has_mask
    with pytest.raises(DatasetError, match="no segmentation"):
        ds.instance_mask(b, b.instances[1])


def test_uncompressed_rle_decodes():
    m = np.zeros((6, 5), np.uint8)
    m[1:3, 2:4] = 1
    counts = []
    flat, cur, run = m.flatten(order="F"), 0, 0
    for v in flat:
        if v != cur:
            counts.append(run)
            cur, run = v, 0
        run += 1
    counts.append(run)
    assert (decode_segmentation({"size": [6, 5], "counts": counts}, 6, 5) == m).all()


@pytest.mark.parametrize(
    "bad_ann, message",
    [
        (_ann(1, cat=99), "unknown category id 99"),
        (_ann(1, bbox=(30, 25, 20, 20)), "outside"),
        ({**_ann(1), "segmentation": [[1, 1, 5, 5]]}, "under 3 points"),
        (_ann(1, image_id=42), "unknown image id 42"),
    ],
)
def test_bad_annotation_names_file_and_record(tmp_path, bad_ann, message, caplog):
    path, root = _write_dataset(tmp_path, [bad_ann, _ann(2, image_id=2)])
    with pytest.raises(DatasetError, match=message) as err:
        load_coco(path, root)
    assert str(path) in str(err.value)
    with caplog.at_level(logging.WARNING, logger="segloc"):
        ds = load_coco(path, root, skip_bad=True)
    assert sum(len(r.instances) for r in ds.images) == 1
    assert "skipped 1 bad record" in caplog.text


def test_missing_and_corrupt_images(tmp_path, caplog):
    path, root = _write_dataset(tmp_path, [_ann(1), _ann(2, image_id=2)])
    (root / "a.png").unlink()
    with pytest.raises(DatasetError, match="a.png"):
        load_coco(path, root)
    (root / "a.png").write_bytes(b"this is not a png")
    with pytest.raises(DatasetError, match="corrupt"):
        load_coco(path, root, check_images="header")
    with caplog.at_level(logging.WARNING, logger="segloc"):
        ds = load_coco(path, root, check_images="header", skip_bad=True)
    assert [r.file_name for r in ds.images] == ["b.png"]
    assert "skipped 1 bad record" in caplog.text


def test_path_escaping_root_is_refused(tmp_path):
    images = [{"id": 1, "file_name": "../../etc/passwd", "width": 40, "height": 30}]
    path, root = _write_dataset(tmp_path, [], images)
    with pytest.raises(DatasetError, match="escapes the dataset root"):
        load_coco(path, root, check_images="none")


def test_empty_or_invalid_json(tmp_path):
    p = tmp_path / "empty.json"
    p.write_text(json.dumps({"images": [], "annotations": [], "categories": []}))
    with pytest.raises(DatasetError, match="lists no images"):
        load_coco(p, tmp_path)
    p.write_text("{not json")
    with pytest.raises(DatasetError, match="not valid JSON"):
        load_coco(p, tmp_path)


def test_pidray_root_found_by_name(tmp_path):
    (tmp_path / "annotations").mkdir()
    for split, js in [("train", "xray_train.json"), ("easy", "xray_test_easy.json")]:
        path, images = _write_dataset(tmp_path / split, [_ann(1)])
        path.rename(tmp_path / "annotations" / js)
        images.rename(tmp_path / split / "x")
        (tmp_path / split / "x").rename(tmp_path / f"{split}_tmp")
        (tmp_path / split).rmdir()
        (tmp_path / f"{split}_tmp").rename(tmp_path / split)
    splits = load_pidray(tmp_path, check_images="header")
    assert set(splits) == {"train", "easy"} and len(splits["easy"]) == 2
    with pytest.raises(DatasetError, match="split"):
        load_pidray(tmp_path, splits=("hidden",))
    with pytest.raises(DatasetError, match="no PIDray annotation file"):
        load_pidray(tmp_path / "train")
