import json
import logging
import shutil

import cv2
import numpy as np
import pytest

from segloc.data.images import read_rgb
from segloc.errors import DatasetError
from segloc.synthesis.backgrounds import BackgroundBank
from segloc.synthesis.pairs import SegLocConfig, SegLocPairSampler, resize_to_width
from segloc.synthesis.region import authentic_region, mask_box, scale_region
from segloc.synthesis.segments import SegmentBank


def _sampler(data, seed=0, **config):
    segments = SegmentBank.from_coco(data.labelled, data.images)
    return SegLocPairSampler(segments, BackgroundBank(data.backgrounds, pattern="N*"), SegLocConfig(**config), seed)


@pytest.fixture(scope="module", params=["handmade", "generated"])
def data(request):
    return request.getfixturevalue(request.param)


def _same_pair(a, b) -> bool:
    return (
        all(
            np.array_equal(getattr(va, f), getattr(vb, f))
            for va, vb in ((a.view1, b.view1), (a.view2, b.view2))
            for f in ("image", "box", "mask")
        )
        and a.view1.label == b.view1.label
    )


def test_views_share_the_class_from_different_instances_images_and_backgrounds(data):
    sampler = _sampler(data)
    segments = sampler.segments
    labels = set()
    for i in range(12):
        pair = sampler(i)
        assert pair.view1.label == pair.view2.label
        labels.add(pair.view1.label)
        a1, a2 = pair.info["annotations"]
        b1, b2 = pair.info["backgrounds"]
        assert b1 != b2
        members = segments.by_class[pair.view1.label]
        images = {segments.record(m).path for m in members}
        if len(members) > 1:
            assert a1 != a2
        if len(images) > 1:
            assert pair.info["sources"][0] != pair.info["sources"][1]
        assert all(0.25 <= c <= 0.65 for c in pair.info["composition"])
    assert len(labels) >= 2


def test_pasted_box_lies_inside_the_region_and_matches_the_mask(data):
    sampler = _sampler(data)
    folder = sampler.backgrounds.folder
    for i in range(10):
        pair = sampler(i)
        for view, name in ((pair.view1, pair.info["backgrounds"][0]), (pair.view2, pair.info["backgrounds"][1])):
            full = read_rgb(folder / name)
            resized = resize_to_width(full, 500)
            assert view.image.shape == resized.shape and view.image.shape[1] == 500
            region = scale_region(
                authentic_region(full), resized.shape[1] / full.shape[1], resized.shape[0] / full.shape[0]
            )
            x1, y1, x2, y2 = view.box
            assert region[0] <= x1 < x2 <= region[2] and region[1] <= y1 < y2 <= region[3]
            assert tuple(view.box.astype(int)) == mask_box(view.mask)
            changed = np.abs(view.image.astype(int) - resized).max(axis=2) > 0
            assert not changed[view.mask == 0].any()  # only the mask's pixels were touched
            assert changed[view.mask > 0].mean() > 0.5


def test_same_index_same_pair_across_fresh_samplers_and_seeds_differ(data):
    first, second = _sampler(data), _sampler(data)
    for i in (0, 5, 123456):
        assert _same_pair(first(i), second(i))
    assert _same_pair(first(3), first(3))
    assert not _same_pair(first(0), first(1))
    assert not _same_pair(first(0), _sampler(data, seed=1)(0))


def test_multiply_mode_darkens(handmade):
    sampler = _sampler(handmade, mode="multiply")
    pair = sampler(0)
    background = resize_to_width(read_rgb(handmade.backgrounds / pair.info["backgrounds"][0]), 500)
    inside = pair.view1.mask > 0
    assert (pair.view1.image[inside].astype(int) <= background[inside].astype(int) + 1).all()


def _single_instance_set(handmade, tmp_path):
    data = json.loads(handmade.labelled.read_text())
    data["annotations"] = [a for a in data["annotations"] if a["category_id"] != 5 or a["id"] == 3]
    path = tmp_path / "one.json"
    path.write_text(json.dumps(data))
    return SegmentBank.from_coco(path, handmade.images)


def test_single_instance_class_reused_or_excluded_with_a_warning(handmade, tmp_path, caplog):
    segments = _single_instance_set(handmade, tmp_path)
    backgrounds = BackgroundBank(handmade.backgrounds)
    with caplog.at_level(logging.WARNING, logger="segloc"):
        reuse = SegLocPairSampler(segments, backgrounds, SegLocConfig(single_instance="reuse"))
    assert "1 class(es) have a single instance" in caplog.text and "Bullet" in caplog.text
    bullets = [p for p in map(reuse, range(40)) if p.view1.label == 5]
    assert bullets and all(p.info["annotations"][0] == p.info["annotations"][1] for p in bullets)
    sizes = [(p.view1.box[2:] - p.view1.box[:2], p.view2.box[2:] - p.view2.box[:2]) for p in bullets]
    assert all(not np.array_equal(a, b) for a, b in sizes)  # independent transforms of the one instance
    exclude = SegLocPairSampler(segments, backgrounds, SegLocConfig(single_instance="exclude"))
    assert 5 not in exclude.classes and all(exclude(i).view1.label != 5 for i in range(40))


def test_bad_backgrounds_are_skipped_with_a_warning(handmade, tmp_path, caplog):
    folder = tmp_path / "bgs"
    shutil.copytree(handmade.backgrounds, folder)
    (folder / "N_broken.jpg").write_bytes(b"garbage")
    cv2.imwrite(str(folder / "N_blank.png"), np.full((300, 400, 3), 253, np.uint8))
    segments = SegmentBank.from_coco(handmade.labelled, handmade.images)
    sampler = SegLocPairSampler(segments, BackgroundBank(folder))
    with caplog.at_level(logging.WARNING, logger="segloc"):
        used = {name for i in range(30) for name in sampler(i).info["backgrounds"]}
    assert "N_broken.jpg" not in used and "N_blank.png" not in used
    assert set(sampler.backgrounds.bad) == {"N_broken.jpg", "N_blank.png"}
    assert "N_broken.jpg" in caplog.text and "no authentic region" in caplog.text


def test_too_few_backgrounds_or_no_pairable_class_is_an_error(handmade, tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(next(handmade.backgrounds.glob("N*")), folder)
    with pytest.raises(DatasetError, match="at least two usable background"):
        BackgroundBank(folder)
    data = json.loads(handmade.labelled.read_text())
    data["annotations"] = data["annotations"][:1]
    path = tmp_path / "single.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DatasetError, match="no class has two instances"):
        SegLocPairSampler(
            SegmentBank.from_coco(path, handmade.images),
            BackgroundBank(handmade.backgrounds),
            SegLocConfig(single_instance="exclude"),
        )
