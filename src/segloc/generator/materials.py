"""Dual-energy physics: attenuation of each material, Beer-Lambert transmissions, pseudo-colour.

A scanner measures a low (~40 keV) and a high (~100 keV) energy transmission per pixel. The
ratio of their logarithms identifies the material (organic ~1.6, aluminium ~3.3, iron/copper
~10) and the high-energy transmission gives the density; the display maps both to a colour.
"""

from __future__ import annotations

import cv2
import numpy as np

MATERIALS = ("organic", "aluminium", "iron", "copper", "lead")
# Mass attenuation mu/rho (cm^2/g) at 40 and 100 keV (NIST XCOM, rounded) and density (g/cm^3).
MASS_ATTENUATION = {
    "organic": (0.27, 0.17),
    "aluminium": (0.57, 0.17),
    "iron": (3.6, 0.37),
    "copper": (4.9, 0.46),
    "lead": (14.4, 5.5),
}
DENSITY = {"organic": 1.0, "aluminium": 2.7, "iron": 7.87, "copper": 8.96, "lead": 11.35}
# Linear attenuation (1/cm): rows low / high energy, columns MATERIALS.
LINEAR_MU = np.array([[MASS_ATTENUATION[m][e] * DENSITY[m] for m in MATERIALS] for e in (0, 1)], dtype=np.float32)

# Display: the scanner shows brightness 255 * T_high ** RESPONSE[style] (T_high = exp(-A_high)) and paints
# it with a colour ramp picked by the low/high attenuation ratio: pure organic matter (plastics, fibres), organic
# matter with a few % mineral content (paper, food, leather, most cotton), mixed and metal.
RESPONSE = {"pidray": 0.5, "sixray": 0.45}
# PIDray's colour ramps: (brightness knots, RGB of each ramp at each knot), sampled by eye (one organic ramp).
# SIXray's colours are calibrated on real scans instead (colours.py).
_PIDRAY_ORGANIC = (
    (255, 255, 255),
    (246, 232, 208),
    (236, 199, 160),
    (222, 160, 100),
    (190, 112, 50),
    (115, 60, 22),
    (35, 18, 6),
)
PALETTES = {
    "pidray": (
        (255, 243, 214, 171, 115, 57, 13),
        (
            _PIDRAY_ORGANIC,
            _PIDRAY_ORGANIC,
            (
                (255, 255, 255),
                (218, 241, 206),
                (166, 228, 160),
                (105, 198, 100),
                (50, 146, 54),
                (22, 92, 30),
                (6, 28, 10),
            ),
            ((255, 255, 255), (196, 212, 240), (112, 150, 214), (42, 82, 162), (14, 44, 108), (5, 24, 66), (2, 8, 24)),
        ),
    ),
}
# Low/high attenuation ratio: the span of the lookup table (down to the noisy ratios of faint matter), and
# PIDray's knots where one ramp applies fully (pure organic 1.59 up to 1.62, organic with ~5% mineral 1.8,
# mixed from 2.3, metal from 4.3; blended between).
RATIO_RANGE = np.log(np.array([0.75, 8.0]))
RATIO_KNOTS = np.log(np.array([1.62, 1.8, 2.1, 2.3, 3.7, 4.3]))
RAMP_AT_KNOT = (0, 1, 1, 2, 2, 3)
RATIO_BINS, DENSITY_BINS, MAX_DENSITY = 256, 256, 7.0
BELT_RATIO = 1.6  # the ratio an empty belt (no attenuation) reads as: pure organic, shown white
AIR = 0.015  # the scanner is calibrated on air: high-energy attenuations below this show as empty belt


def attenuation(thickness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Low and high energy attenuation -ln T = sum_m mu_m * t_m, from (len(MATERIALS), H, W) cm maps."""
    out = []
    for mu in LINEAR_MU:
        a = thickness[0] * mu[0]
        for k in range(1, len(MATERIALS)):
            cv2.scaleAdd(thickness[k], float(mu[k]), a, dst=a)
        out.append(a)
    return out[0], out[1]


def transmission(a: np.ndarray) -> np.ndarray:
    """Beer-Lambert: the fraction of the beam that gets through, exp(-attenuation)."""
    return np.exp(-a)


def observed_density(a_high: np.ndarray) -> np.ndarray:
    """The density the display shades by: high-energy attenuation above the air calibration, capped."""
    return np.clip(a_high - np.float32(AIR), 0, np.float32(MAX_DENSITY))


def shade(density: np.ndarray, style: str) -> np.ndarray:
    """Display brightness 0-255 of a density (0: air, white)."""
    return 255 * np.exp(-RESPONSE[style] * density)


def lut_grid(style: str) -> tuple[np.ndarray, np.ndarray]:
    """The log ratio of each ratio bin and the display brightness of each density bin of the lookup table."""
    density = (np.arange(DENSITY_BINS) / (DENSITY_BINS - 1)) ** 2 * MAX_DENSITY
    return np.linspace(*RATIO_RANGE, RATIO_BINS), shade(density, style)


def build_palette(style: str) -> np.ndarray:
    """Colour lookup table (RATIO_BINS * DENSITY_BINS, 3) uint8 from a style's ramps, indexed by ratio and
    density bins."""
    knots, rows = PALETTES[style]
    rows = np.asarray(rows, dtype=np.float32)  # (ramps, knots, 3)
    log_ratio, shade = lut_grid(style)
    order = np.argsort(knots)
    ramps = np.stack(
        [np.stack([np.interp(shade, np.asarray(knots)[order], r[order, c]) for c in range(3)], -1) for r in rows]
    )  # (ramps, DENSITY_BINS, 3)
    weights = np.stack([np.interp(log_ratio, RATIO_KNOTS, np.equal(RAMP_AT_KNOT, k)) for k in range(len(rows))], -1)
    lut = np.einsum("rk,kdc->rdc", weights, ramps)
    return np.clip(np.round(lut), 0, 255).astype(np.uint8).reshape(-1, 3)


def log_ratio(a_low: np.ndarray, a_high: np.ndarray) -> np.ndarray:
    """log(a_low / a_high) of float32 attenuations, steadied near zero so that air reads BELT_RATIO."""
    eps = np.float32(0.02)
    return cv2.log(a_low + np.float32(BELT_RATIO) * eps) - cv2.log(a_high + eps)


def colourise(a_low: np.ndarray, a_high: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """RGB image from observed attenuations: hue from the ratio a_low/a_high, shade from a_high."""
    lo, hi = RATIO_RANGE
    r_bin = np.clip(
        (log_ratio(a_low, a_high) - np.float32(lo)) * np.float32((RATIO_BINS - 1) / (hi - lo)), 0, RATIO_BINS - 1
    )
    d_bin = cv2.sqrt(observed_density(a_high) * np.float32(1 / MAX_DENSITY)) * np.float32(DENSITY_BINS - 1)
    index = r_bin.astype(np.int32) * DENSITY_BINS + (d_bin + np.float32(0.5)).astype(np.int32)
    return np.take(palette, index, axis=0)
