"""Every COCO segmentation form decodes to the same mask, and encoded masks survive a JSON round trip."""

from __future__ import annotations

import json

import numpy as np

from segloc.data.masks import decode_segmentation, encode_mask, rle_area, rle_box, to_rle


def _mask() -> np.ndarray:
    mask = np.zeros((12, 10), np.uint8)
    mask[2:7, 3:9] = 1
    mask[9, 1] = 1
    return mask


def test_encoded_mask_round_trips_through_json():
    mask = _mask()
    rle = json.loads(json.dumps(encode_mask(mask)))
    assert rle["size"] == [12, 10] and isinstance(rle["counts"], str)
    assert (decode_segmentation(rle, 12, 10) == mask).all()


def test_every_segmentation_form_gives_the_same_rle_area_and_box():
    mask = _mask()
    compressed = encode_mask(mask)
    as_bytes = dict(compressed, counts=compressed["counts"].encode("ascii"))
    runs, value, count = [], 0, 0
    for pixel in mask.ravel(order="F"):
        if pixel != value:
            runs.append(count)
            value, count = pixel, 0
        count += 1
    runs.append(count)
    uncompressed = {"size": [12, 10], "counts": runs}
    for segmentation in (compressed, as_bytes, uncompressed):
        rle = to_rle(segmentation, 12, 10)
        assert rle_area(rle) == mask.sum()
        assert rle_box(rle) == [1.0, 2.0, 8.0, 8.0]
        assert (decode_segmentation(segmentation, 12, 10) == mask).all()
    square = [[3.0, 2.0, 9.0, 2.0, 9.0, 7.0, 3.0, 7.0]]
    assert rle_area(to_rle(square, 12, 10)) > 0
    assert decode_segmentation(square, 12, 10)[4, 5] == 1
