import json
import logging

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from segloc.data.coco import load_coco
from segloc.errors import DatasetError
from segloc.synthesis.segments import SegmentBank, segmentation_area


def _dataset(tmp_path, annotations, size=(120, 90)):
    w, h = size
    image = np.full((h, w, 3), 250, np.uint8)
    image[20:60, 30:80] = (200, 120, 40)  # a dark object inside the first box
    cv2.imwrite(str(tmp_path / "a.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    path = tmp_path / "ann.json"
    path.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": "a.png", "width": w, "height": h}],
                "annotations": [{"id": i + 1, "image_id": 1, "iscrowd": 0, **a} for i, a in enumerate(annotations)],
                "categories": [{"id": 4, "name": "Powerbank"}, {"id": 9, "name": "Sprayer"}],
            }
        )
    )
    return path


def test_polygon_rle_and_box_segments_are_cut_to_their_masks(tmp_path):
    rle_mask = np.zeros((90, 120), np.uint8)
    rle_mask[10:30, 90:110] = 1
    rle = mask_utils.encode(np.asfortranarray(rle_mask))
    rle["counts"] = rle["counts"].decode()
    path = _dataset(
        tmp_path,
        [
            {"category_id": 4, "bbox": [30, 20, 50, 40], "segmentation": [[30, 20, 80, 20, 30, 60]]},
            {"category_id": 9, "bbox": [90, 10, 20, 20], "segmentation": rle},
            {"category_id": 9, "bbox": [25, 15, 60, 50]},
        ],
    )
    bank = SegmentBank.from_coco(path, tmp_path)
    assert len(bank) == 3 and bank.by_class == {4: [0], 9: [1, 2]}
    tri, square, box = bank[0], bank[1], bank[2]
    assert abs(tri.mask.shape[0] - 40) <= 1 and abs(tri.mask.shape[1] - 50) <= 1  # rasterised edges
    assert 0.45 < tri.mask.mean() < 0.6  # a right triangle: half its box
    assert tri.mask[1, 1] == 1 and tri.mask[-2, -2] == 0
    assert np.array_equal(tri.image[tri.mask > 0].mean(0).round(), [200, 120, 40])
    assert square.mask.shape == (20, 20) and square.mask.all()
    assert box.mask.shape == (50, 60) and box.mask.all() and box.annotation_id == 3


def test_box_only_segment_refined_to_its_dark_pixels(tmp_path):
    path = _dataset(tmp_path, [{"category_id": 4, "bbox": [20, 10, 70, 60]}])
    segment = SegmentBank.from_coco(path, tmp_path, refine_boxes=True)[0]
    assert segment.mask.shape == (40, 50) and segment.mask.all()  # tightened to the object


def test_size_filters_crowd_and_empty_masks_are_left_out_with_a_count(tmp_path, caplog):
    path = _dataset(
        tmp_path,
        [
            {"category_id": 4, "bbox": [30, 20, 50, 40], "segmentation": [[30, 20, 80, 20, 30, 60]]},
            {"category_id": 4, "bbox": [1, 1, 4, 4], "segmentation": [[1, 1, 5, 1, 1, 5]]},
            {"category_id": 9, "bbox": [30, 20, 50, 40], "segmentation": [[30, 20, 80, 20, 30, 60]], "iscrowd": 1},
            {"category_id": 9, "bbox": [30, 20, 50, 40], "segmentation": [[30, 20, 50, 20, 70, 20]]},
        ],
    )
    with caplog.at_level(logging.WARNING, logger="segloc"):
        bank = SegmentBank.from_coco(path, tmp_path, min_size=8)
    assert [r.instance for r in bank.refs] == [0]
    assert "left 3 instance(s) out" in caplog.text
    assert "1 empty masks" in caplog.text and "1 crowd" in caplog.text and "smaller than 8 px" in caplog.text
    assert len(SegmentBank.from_coco(path, tmp_path, min_size=2, max_size=10)) == 1


def test_segmentation_area_without_rasterising():
    assert segmentation_area([[0, 0, 10, 0, 10, 10, 0, 10]], 20, 20) == 100.0
    mask = np.zeros((20, 20), np.uint8)
    mask[2:5, 3:7] = 1
    assert segmentation_area(mask_utils.encode(np.asfortranarray(mask)), 20, 20) == 12.0


def test_segments_are_cached_and_evicted(handmade):
    bank = SegmentBank(load_coco(handmade.labelled, handmade.images), cache_size=2)
    first = bank[0]
    assert bank[0] is first
    bank[1], bank[2]
    assert 0 not in bank._cache and len(bank._cache) == 2
    again = bank[0]
    assert again is not first and np.array_equal(again.image, first.image)


def test_unreadable_source_image_names_the_file(tmp_path):
    path = _dataset(tmp_path, [{"category_id": 4, "bbox": [30, 20, 50, 40]}])
    (tmp_path / "a.png").write_bytes(b"broken")
    bank = SegmentBank.from_coco(path, tmp_path)
    with pytest.raises(DatasetError, match="a.png"):
        bank[0]
