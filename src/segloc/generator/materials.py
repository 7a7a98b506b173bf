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
LINEAR_MU = np.array(
    [[MASS_ATTENUATION[m][e] * DENSITY[m] for m in MATERIALS] for e in (0, 1)], dtype=np.float32
)

# Display palettes: colour of organic / mixed (aluminium) / metal at increasing high-energy
# attenuation A_high = -ln T_high (knots below). Sampled by eye from real PIDray and SIXray scans.
DENSITY_KNOTS = np.array([0.0, 0.1, 0.35, 0.8, 1.6, 3.0, 6.0])
PALETTES = {
    "pidray": (
        ((255, 255, 255), (246, 232, 208), (236, 199, 160), (222, 160, 100), (190, 112, 50), (115, 60, 22), (35, 18, 6)),
        ((255, 255, 255), (218, 241, 206), (166, 228, 160), (105, 198, 100), (50, 146, 54), (22, 92, 30), (6, 28, 10)),
        ((255, 255, 255), (196, 212, 240), (112, 150, 214), (42, 82, 162), (14, 44, 108), (5, 24, 66), (2, 8, 24)),
    ),
    "sixray": (
        ((255, 255, 255), (252, 228, 194), (246, 194, 118), (230, 158, 60), (200, 122, 28), (136, 76, 14), (44, 24, 5)),
        ((255, 255, 255), (216, 236, 192), (152, 204, 110), (82, 170, 58), (44, 116, 32), (24, 70, 16), (8, 24, 5)),
        ((255, 255, 255), (192, 222, 242), (84, 166, 226), (22, 116, 200), (10, 76, 136), (5, 40, 82), (2, 10, 30)),
    ),
}
# Low/high attenuation ratio at which each palette row applies fully (organic, mixed, metal).
RATIO_ANCHORS = np.log(np.array([1.75, 3.3, 5.5]))
RATIO_BINS, DENSITY_BINS, MAX_DENSITY = 64, 256, 7.0


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


def build_palette(style: str) -> np.ndarray:
    """Colour lookup table (RATIO_BINS * DENSITY_BINS, 3) uint8 indexed by ratio and density bins."""
    rows = np.asarray(PALETTES[style], dtype=np.float32)  # (3 materials, knots, 3)
    density = (np.arange(DENSITY_BINS) / (DENSITY_BINS - 1)) ** 2 * MAX_DENSITY
    ramps = np.stack([np.stack([np.interp(density, DENSITY_KNOTS, r[:, c]) for c in range(3)], -1)
                      for r in rows])  # (3, DENSITY_BINS, 3)
    log_ratio = np.linspace(RATIO_ANCHORS[0] - 0.2, RATIO_ANCHORS[-1] + 0.3, RATIO_BINS)
    weights = np.stack([np.interp(log_ratio, RATIO_ANCHORS, np.eye(3)[k]) for k in range(3)], -1)
    lut = np.einsum("rk,kdc->rdc", weights, ramps)
    return np.clip(np.round(lut), 0, 255).astype(np.uint8).reshape(-1, 3)


def colourise(a_low: np.ndarray, a_high: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """RGB image from observed attenuations: hue from the ratio a_low/a_high, shade from a_high."""
    eps = np.float32(0.02)
    log_ratio = cv2.log(a_low + np.float32(1.75) * eps) - cv2.log(a_high + eps)
    lo, hi = RATIO_ANCHORS[0] - 0.2, RATIO_ANCHORS[-1] + 0.3
    r_bin = np.clip((log_ratio - np.float32(lo)) * np.float32((RATIO_BINS - 1) / (hi - lo)), 0, RATIO_BINS - 1)
    d_bin = cv2.sqrt(np.minimum(a_high, np.float32(MAX_DENSITY)) * np.float32(1 / MAX_DENSITY)) * np.float32(DENSITY_BINS - 1)
    index = r_bin.astype(np.int32) * DENSITY_BINS + (d_bin + np.float32(0.5)).astype(np.int32)
    return np.take(palette, index, axis=0)
