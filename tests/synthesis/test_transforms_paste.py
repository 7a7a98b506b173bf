import numpy as np
import pytest

from segloc.synthesis.paste import paste, place
from segloc.synthesis.transforms import (
    SegmentAugment,
    color_jitter,
    moco_color,
    rotate_expand,
    to_grayscale,
    transform_segment,
)


def _bar(h=20, w=80):
    image = np.zeros((h, w, 3), np.uint8)
    image[:] = (30, 90, 200)
    return image, np.ones((h, w), np.uint8)


@pytest.mark.parametrize("angle", [30.0, 45.0, 90.0, 137.0, -60.0])
def test_rotation_expands_the_canvas_and_keeps_the_whole_object(angle):
    image, mask = _bar()
    rotated, rmask = rotate_expand(image, mask, angle)
    rad = np.deg2rad(angle)
    expected_w = 80 * abs(np.cos(rad)) + 20 * abs(np.sin(rad))
    expected_h = 80 * abs(np.sin(rad)) + 20 * abs(np.cos(rad))
    assert abs(rmask.shape[1] - expected_w) <= 2 and abs(rmask.shape[0] - expected_h) <= 2
    assert abs(int(rmask.sum()) - 1600) <= 0.05 * 1600  # nothing cut off
    assert rmask[0].any() and rmask[-1].any() and rmask[:, 0].any() and rmask[:, -1].any()
    inside = rotated[rmask > 0]
    assert np.abs(inside.astype(int) - [30, 90, 200]).max() <= 2  # the pixels rotated with the mask


def test_segment_scaled_to_a_fraction_of_the_region_and_always_fits():
    image, mask = _bar(40, 200)
    aug = SegmentAugment(
        rotation=0.0, hflip=0.0, vflip=0.0, scale=(0.5, 0.5), brightness=0, contrast=0, saturation=0, hue=0
    )
    out, omask = transform_segment(image, mask, (300, 120), aug, np.random.default_rng(0))
    assert omask.shape == (30, 150)  # longer side = 0.5 * 300
    aug = SegmentAugment(rotation=0.0, hflip=0.0, vflip=0.0, scale=(0.9, 0.9))
    out, omask = transform_segment(image, mask, (300, 20), aug, np.random.default_rng(0))
    assert omask.shape[0] <= 20 and omask.shape[1] <= 300  # shrunk to fit the region's height
    for seed in range(20):
        out, omask = transform_segment(image, mask, (60, 50), SegmentAugment(), np.random.default_rng(seed))
        assert omask.shape[0] <= 50 and omask.shape[1] <= 60 and omask.any() and out.shape[:2] == omask.shape


def test_segment_colour_jitter_is_small_and_never_gray():
    image, mask = _bar()
    for seed in range(30):
        out, omask = transform_segment(image, mask, (400, 400), SegmentAugment(), np.random.default_rng(seed))
        pixels = out[omask > 0].astype(float)
        spread = pixels.max(1) - pixels.min(1)
        assert np.median(spread) > 100  # stays blue: saturation never drops to gray


def test_color_jitter_zero_strength_is_identity_and_hue_moves_colour():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    assert np.array_equal(color_jitter(image, rng, 0, 0, 0, 0), image)
    shifted = color_jitter(image, np.random.default_rng(1), 0, 0, 0, 0.5)
    assert not np.array_equal(shifted, image)


def test_moco_color_can_turn_gray():
    image = np.zeros((4, 4, 3), np.uint8)
    image[:] = (250, 30, 30)
    gray = [np.ptp(moco_color(image, np.random.default_rng(s)).astype(int), axis=2).max() == 0 for s in range(200)]
    assert 0.1 < np.mean(gray) < 0.3  # grayscale with probability 0.2
    assert np.ptp(to_grayscale(image), axis=2).max() == 0


def test_blend_is_c_segment_plus_one_minus_c_background_inside_the_mask():
    background = np.full((10, 10, 3), 200, np.uint8)
    segment = np.full((4, 4, 3), 100, np.uint8)
    mask = np.zeros((4, 4), np.uint8)
    mask[1:3, 1:3] = 1
    out, full = paste(background, segment, mask, (5, 2), 0.4)
    assert np.all(out[3:5, 6:8] == 160)  # 0.4 * 100 + 0.6 * 200
    assert out[2, 5, 0] == 200 and out[0, 0, 0] == 200  # outside the mask untouched
    assert full.sum() == 4 and full[3:5, 6:8].all()


def test_multiply_is_beer_lambert_with_alpha_two_c():
    background = np.full((6, 6, 3), 200, np.uint8)
    segment = np.full((2, 2, 3), 64, np.uint8)
    out, _ = paste(background, segment, np.ones((2, 2), np.uint8), (0, 0), 0.5, mode="multiply")
    assert out[0, 0, 0] == round(200 * 64 / 255)  # c = 0.5: the object's own transmission
    out, _ = paste(background, segment, np.ones((2, 2), np.uint8), (0, 0), 0.25, mode="multiply")
    assert out[0, 0, 0] == round(200 * (64 / 255) ** 0.5)
    with pytest.raises(ValueError, match="paste mode"):
        paste(background, segment, np.ones((2, 2), np.uint8), (0, 0), 0.5, mode="screen")


def test_place_keeps_the_object_inside_the_region():
    rng = np.random.default_rng(0)
    corners = np.array([place((10, 20, 110, 70), (30, 40), rng) for _ in range(500)])
    assert corners[:, 0].min() == 10 and corners[:, 0].max() == 80
    assert corners[:, 1].min() == 20 and corners[:, 1].max() == 30
    with pytest.raises(ValueError, match="does not fit"):
        place((0, 0, 10, 10), (11, 5), rng)
