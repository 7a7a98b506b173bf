"""What the scanner adds to the ideal attenuation: slight blur, photon noise and belt streaks."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

NOISE_BANK_SIZE = 1024
NOISE_BANK_SEED = 20210101  # fixed: the bank is the same in every process, so output stays deterministic
EDGE_GAIN = 0.8  # scanner displays sharpen edges: outlines of objects read darker (0.8: real SIXray edge density)
PHOTON_NOISE = 0.012  # default std of the attenuation noise on the empty belt; grows as less beam gets through


@lru_cache(maxsize=1)
def noise_bank() -> np.ndarray:
    """Two planes of standard normal noise, built once per process; scans read random windows of it."""
    rng = np.random.default_rng(NOISE_BANK_SEED)
    return rng.standard_normal((2, NOISE_BANK_SIZE, NOISE_BANK_SIZE), dtype=np.float32)


def observe(
    a_low: np.ndarray,
    a_high: np.ndarray,
    rng: np.random.Generator,
    photon_noise: float = PHOTON_NOISE,
    streaks: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Observed attenuations: blurred by the detector, edge-sharpened, with photon noise and (if `streaks`)
    faint belt streaks."""
    h, w = a_high.shape
    if h > NOISE_BANK_SIZE or w > NOISE_BANK_SIZE:
        raise ValueError(f"scan {w}x{h} is larger than the detector noise bank ({NOISE_BANK_SIZE} px)")
    bank = noise_bank()
    oy, ox = int(rng.integers(0, NOISE_BANK_SIZE - h + 1)), int(rng.integers(0, NOISE_BANK_SIZE - w + 1))
    belt = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 4)) if streaks else 0):
        y = int(rng.integers(0, h - 2))
        belt[y : y + int(rng.integers(1, 3)), :] += rng.uniform(0.015, 0.05)
    for _ in range(int(rng.integers(0, 3)) if streaks else 0):
        x = int(rng.integers(0, w - 2))
        belt[:, x : x + int(rng.integers(1, 3))] += rng.uniform(0.01, 0.035)
    out = []
    for k, a in enumerate((a_low, a_high)):
        a = cv2.GaussianBlur(a, (3, 3), 0.6)
        cv2.addWeighted(a, 1.0 + EDGE_GAIN, cv2.GaussianBlur(a, (0, 0), 1.5), -EDGE_GAIN, 0.0, dst=a)
        noise = cv2.min(a, 6.0)
        noise *= np.float32(0.5)
        cv2.exp(noise, noise)
        noise *= bank[k, oy : oy + h, ox : ox + w]
        cv2.scaleAdd(noise, photon_noise, a, dst=a)
        cv2.scaleAdd(belt, 1.75 if k == 0 else 1.0, a, dst=a)
        out.append(cv2.max(a, 0.0))
    return out[0], out[1]
