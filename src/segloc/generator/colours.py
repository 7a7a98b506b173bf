"""SIXray's display colours, calibrated on real scans: the colour a pixel of given attenuation ratio and
brightness reads as.

A scanner paints each pixel by its low/high attenuation ratio (the material) and its brightness (the density)
through a vendor table that is not published. segloc fits SIXray's from real SIXray scans in two parts:

- the colours: for each hue the real scans show (HUE_ANCHORS, red-orange to blue), the median colour of real
  pixels of that hue at each brightness (LUMA_KNOTS);
- which ratio reads as which hue, per brightness band: the ratio knots at which generated scans show each hue
  in the share real scans do (quantile matching). The map rises with the ratio, so organic matter stays orange,
  mixed matter green and metal blue.

`python -m segloc.generator.calibrate --real DIR` refits it into CALIBRATION.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import cv2
import numpy as np

CALIBRATION = Path(__file__).with_name("sixray_colours.json")
LUMA_KNOTS = (255, 244, 228, 212, 196, 180, 164, 148, 132, 116, 100, 84, 68, 52, 36, 0)
HUE_STEP = 4  # OpenCV hue units (2 degrees)
HUE_ANCHORS = tuple(range(12, 112, HUE_STEP))
BAND_CENTRES = tuple(range(232, 20, -16))  # brightness bands the ratio-to-hue map is matched in
BAND_HALF = 12  # brightness half-width of a band (bands overlap, so neighbouring maps agree)
LUMA_HALF = 8  # brightness half-width of the pixels a ramp colour is the median of
MIN_SATURATION = 32  # paler pixels have no reliable hue
OBJECT_LUMA = 225  # darker pixels are objects, lighter ones belt (as the realism measure counts them)
MIN_RAMP_PIXELS, MIN_RAMP_KNOTS, MIN_BAND_PIXELS = 30, 6, 200


def object_pixels(rgb: np.ndarray) -> np.ndarray:
    """The (N, 3) uint8 RGB pixels of an image darker than OBJECT_LUMA."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return rgb[gray < OBJECT_LUMA]


def _hue_sat_luma(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OpenCV hue (0-180), saturation and luma of (N, 3) RGB pixels."""
    row = np.ascontiguousarray(pixels[None])
    hsv = cv2.cvtColor(row, cv2.COLOR_RGB2HSV)[0].astype(np.int32)
    return hsv[:, 0], hsv[:, 1], cv2.cvtColor(row, cv2.COLOR_RGB2GRAY)[0].astype(np.float64)


def _ramp(pixels: np.ndarray, in_hue: np.ndarray, luma: np.ndarray) -> np.ndarray | None:
    """Median RGB of one hue's pixels at each LUMA_KNOTS brightness (white at 255); None if too few are seen."""
    knots = np.asarray(LUMA_KNOTS, np.float64)
    ramp = np.full((len(knots), 3), np.nan)
    ramp[0] = 255
    for k, level in enumerate(knots[1:], 1):
        near = in_hue & (np.abs(luma - level) <= LUMA_HALF)
        if near.sum() >= MIN_RAMP_PIXELS:
            ramp[k] = np.median(pixels[near].astype(np.float64), axis=0)
    seen = ~np.isnan(ramp[:, 0])
    if seen.sum() < MIN_RAMP_KNOTS:
        return None
    darkest = int(np.nonzero(seen)[0].max())
    for c in range(3):
        ramp[:, c] = np.interp(-knots, -knots[seen], ramp[seen, c])
    ramp[darkest + 1 :] = ramp[darkest] * (np.maximum(knots[darkest + 1 :], 8) / knots[darkest])[:, None]
    return ramp


def fit(real: np.ndarray, ratios: np.ndarray, shades: np.ndarray) -> dict:
    """Calibration from real object pixels (N, 3) RGB and generated object pixels' log ratios and brightness."""
    hue, sat, luma = _hue_sat_luma(real)
    anchors, ramps = [], []
    for h in HUE_ANCHORS:
        ramp = _ramp(real, (np.abs(hue - h) <= HUE_STEP / 2) & (sat >= MIN_SATURATION), luma)
        if ramp is not None:
            anchors.append(h)
            ramps.append(np.round(ramp).astype(int).tolist())
    if len(anchors) < 2:
        raise ValueError(f"only {len(anchors)} hues are seen often enough in the real scans to fit colours")
    centre = np.asarray(anchors, np.float64)
    bands, knots = [], []
    for c in BAND_CENTRES:
        real_hue = hue[(np.abs(luma - c) <= BAND_HALF) & (sat >= MIN_SATURATION)]
        generated = ratios[np.abs(shades - c) <= BAND_HALF]
        if len(real_hue) < MIN_BAND_PIXELS or len(generated) < MIN_BAND_PIXELS:
            continue
        below = (
            (real_hue[:, None] < centre - HUE_STEP / 2).mean(0) + (real_hue[:, None] < centre + HUE_STEP / 2).mean(0)
        ) / 2
        bands.append(c)
        knots.append(np.round(_rising(np.quantile(generated, below)), 4).tolist())
    if not bands:
        raise ValueError("no brightness band holds enough real and generated object pixels to match hues")
    return {
        "luma_knots": list(LUMA_KNOTS),
        "hue_anchors": anchors,
        "ramps": ramps,
        "bands": bands,
        "ratio_knots": knots,
    }


def _rising(knots: np.ndarray) -> np.ndarray:
    """Knots made strictly increasing (ties from empty hues nudged apart), as interpolation needs."""
    return np.maximum.accumulate(np.asarray(knots, np.float64) + 1e-4 * np.arange(len(knots)))


def colour_table(calibration: dict, log_ratio: np.ndarray, shades: np.ndarray) -> np.ndarray:
    """Lookup table (len(log_ratio) * len(shades), 3) uint8: the calibrated colour of each ratio and brightness."""
    luma = -np.asarray(calibration["luma_knots"], np.float64)
    ramps = np.asarray(calibration["ramps"], np.float64)  # (anchors, luma knots, 3)
    bands = -np.asarray(calibration["bands"], np.float64)
    knots = np.asarray(calibration["ratio_knots"], np.float64)  # (bands, anchors)
    index = np.arange(len(ramps))
    lut = np.empty((len(log_ratio), len(shades), 3))
    for d, level in enumerate(shades):
        at = _rising([np.interp(-level, bands, knots[:, a]) for a in index])
        pos = np.interp(log_ratio, at, index)
        colours = np.stack([[np.interp(-level, luma, ramps[a, :, c]) for c in range(3)] for a in index])
        low = np.minimum(pos.astype(int), len(index) - 2)
        frac = (pos - low)[:, None]
        lut[:, d] = colours[low] * (1 - frac) + colours[low + 1] * frac
    return np.clip(np.round(lut), 0, 255).astype(np.uint8).reshape(-1, 3)


@cache
def load_calibration(path: Path = CALIBRATION) -> dict:
    """The calibration in `path` (the shipped SIXray one by default)."""
    return json.loads(Path(path).read_text())
