"""SIXray's calibrated display colours: the fit, the shipped calibration and the fitting half of real scans."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from segloc.generator.calibrate import fitting_half
from segloc.generator.colours import colour_table, fit, load_calibration
from segloc.generator.materials import DENSITY_BINS, RATIO_BINS, lut_grid

HUES = (14, 30, 50, 80, 104)  # OpenCV hues of the synthetic "real" scans: orange, yellow, green, teal, blue


def hue_of(rgb: np.ndarray) -> np.ndarray:
    """OpenCV hue of (N, 3) uint8 RGB colours."""
    return cv2.cvtColor(np.ascontiguousarray(rgb[None]), cv2.COLOR_RGB2HSV)[0, :, 0].astype(int)


def synthetic_real(rng: np.random.Generator, n: int = 60_000) -> np.ndarray:
    """RGB pixels of five hues at every saturation and brightness, as a real scan's object pixels."""
    hsv = np.stack([rng.choice(HUES, n), rng.integers(60, 200, n), rng.integers(30, 256, n)], -1).astype(np.uint8)
    return cv2.cvtColor(hsv[None], cv2.COLOR_HSV2RGB)[0]


def test_fit_maps_rising_ratios_to_rising_hues():
    rng = np.random.default_rng(0)
    ratios, shades = rng.uniform(0.4, 1.8, 80_000), rng.uniform(20, 240, 80_000)
    calibration = fit(synthetic_real(rng), ratios, shades)
    assert set(calibration["hue_anchors"]) <= set(range(8, 112))
    assert {min(calibration["hue_anchors"]), max(calibration["hue_anchors"])} == {12, 104}
    table = colour_table(calibration, np.linspace(0.3, 1.9, 40), np.array([110.0]))
    hues = hue_of(table)
    assert abs(hues[0] - 14) <= 4 and abs(hues[-1] - 104) <= 4
    assert (np.diff(hues) >= -2).all()  # orange, then green, then blue: never back


def test_fit_refuses_scans_without_hues():
    grey = np.repeat(np.arange(30, 220, dtype=np.uint8), 500)[:, None].repeat(3, 1)
    with pytest.raises(ValueError, match="hues"):
        fit(grey, np.ones(1000), np.full(1000, 120.0))


def test_shipped_calibration_paints_organic_orange_and_metal_blue():
    calibration = load_calibration()
    log_ratio, shades = lut_grid("sixray")
    table = colour_table(calibration, log_ratio, shades).reshape(RATIO_BINS, DENSITY_BINS, 3)
    assert table.shape == (RATIO_BINS, DENSITY_BINS, 3)
    assert (table[:, 0] >= 250).all()  # no attenuation: white at every ratio
    mid = int(np.argmin(np.abs(shades - 140)))  # a mid brightness
    organic, metal = np.searchsorted(log_ratio, np.log([1.6, 5.0]))
    assert 8 <= hue_of(table[organic, mid][None])[0] <= 26
    assert 90 <= hue_of(table[metal, mid][None])[0] <= 125
    assert table[:, -1].max() < 80  # the densest matter is near black


def test_fitting_half_is_a_fixed_half_of_the_names():
    paths = [Path(f"scans/N{i:05d}.jpg") for i in range(400)]
    half = fitting_half(paths)
    assert half == fitting_half(list(reversed(paths)))[::-1]
    assert 150 < len(half) < 250
    assert set(fitting_half([Path("elsewhere") / p.name for p in half])) == {Path("elsewhere") / p.name for p in half}
