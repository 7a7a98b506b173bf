import numpy as np

from segloc.data.coco import load_coco
from segloc.synthesis.backgrounds import BackgroundBank
from segloc.synthesis.insloc import InsLocPairSampler, random_resized_crop, rescale_to_fit


def _sampler(handmade, seed=0):
    foregrounds = [r.path for r in load_coco(handmade.labelled, handmade.images).images]
    return InsLocPairSampler(foregrounds, BackgroundBank(handmade.backgrounds), seed=seed)


def test_random_resized_crop_respects_area_and_aspect():
    rng = np.random.default_rng(0)
    for _ in range(300):
        x, y, w, h = random_resized_crop(400, 300, (0.2, 1.0), (0.5, 2.0), rng)
        assert 0 <= x and x + w <= 400 and 0 <= y and y + h <= 300
        assert 0.2 * 120000 * 0.95 <= w * h <= 120000 and 0.5 * 0.95 <= w / h <= 2.0 * 1.05
    assert random_resized_crop(1000, 10, (0.2, 1.0), (0.5, 2.0), rng) == (490, 0, 20, 10)  # centre fallback


def test_rescaled_crop_fits_128_to_255():
    rng = np.random.default_rng(1)
    for shape in [(30, 200), (300, 40), (500, 500), (64, 64)]:
        for _ in range(20):
            out = rescale_to_fit(np.zeros((*shape, 3), np.uint8), (128, 255), rng)
            assert 128 <= max(out.shape[:2]) <= 255 and min(out.shape[:2]) <= 255


def test_insloc_pair_crops_one_image_onto_two_256_backgrounds(handmade):
    sampler = _sampler(handmade)
    for i in range(10):
        pair = sampler(i)
        assert pair.info["sources"][0] == pair.info["sources"][1]
        assert pair.info["backgrounds"][0] != pair.info["backgrounds"][1]
        for view in (pair.view1, pair.view2):
            assert view.image.shape == (256, 256, 3) and view.label == -1
            x1, y1, x2, y2 = view.box
            assert 0 <= x1 < x2 <= 256 and 0 <= y1 < y2 <= 256
            assert 128 <= max(x2 - x1, y2 - y1) <= 255
            assert view.mask.sum() == (x2 - x1) * (y2 - y1) and view.mask[int(y1), int(x1)] == 1


def test_insloc_is_deterministic_per_index(handmade):
    a, b = _sampler(handmade)(4), _sampler(handmade)(4)
    assert np.array_equal(a.view1.image, b.view1.image) and np.array_equal(a.view2.box, b.view2.box)
    assert not np.array_equal(a.view1.image, _sampler(handmade)(5).view1.image)
