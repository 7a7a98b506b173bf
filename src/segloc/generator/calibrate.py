"""Refit SIXray's display colours to real scans: ``python -m segloc.generator.calibrate --real DIR``.

Reads the fitting half of the real scans in DIR (chosen by a hash of each file name, so the other half stays
unseen for measuring realism), renders generated SIXray negatives with the current physics, and writes the
calibration (colours.py) that the generator then uses for every SIXray scan.
"""

from __future__ import annotations

import argparse
import json
import zlib
from pathlib import Path

import cv2
import numpy as np

from segloc.data.images import IMAGE_SUFFIXES, read_rgb
from segloc.data.resize import resized_shape
from segloc.generator.colours import CALIBRATION, OBJECT_LUMA, fit, object_pixels
from segloc.generator.materials import log_ratio, observed_density, shade
from segloc.generator.scan import ScanPlan, expose

SIDE = 384  # real and generated scans are compared at this longest side, as the realism measure does
PIXEL_STRIDE = 3  # every third object pixel is enough for medians and quantiles


def fitting_half(paths: list[Path]) -> list[Path]:
    """The half of `paths` calibration may read: those whose file name hashes even."""
    return [p for p in paths if zlib.crc32(p.name.encode()) % 2 == 0]


def real_pixels(paths: list[Path]) -> np.ndarray:
    """Object pixels (N, 3) RGB of real scans, each shrunk to SIDE px on its longest side."""
    out = []
    for path in paths:
        image = read_rgb(path)
        size = resized_shape(image.shape[1], image.shape[0], SIDE)
        rgb = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        out.append(object_pixels(rgb)[::PIXEL_STRIDE])
    return np.concatenate(out)


def generated_pixels(scans: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Log ratios and display brightness of the object pixels of `scans` generated SIXray negatives."""
    ratios, shades = [], []
    for i in range(scans):
        exposure = expose(ScanPlan("sixray"), np.random.default_rng([seed, i]))
        level = shade(observed_density(exposure.a_high), "sixray")
        inside = level < OBJECT_LUMA
        ratios.append(log_ratio(exposure.a_low, exposure.a_high)[inside][::PIXEL_STRIDE])
        shades.append(level[inside][::PIXEL_STRIDE])
    return np.concatenate(ratios), np.concatenate(shades)


def calibrate(real_dir: Path, scans: int = 80, seed: int = 0) -> dict:
    """The SIXray colour calibration fitted on the fitting half of the scans in `real_dir`."""
    paths = sorted(p for p in Path(real_dir).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    chosen = fitting_half(paths)
    if not chosen:
        raise ValueError(f"{real_dir}: no real scans ({', '.join(IMAGE_SUFFIXES)}) to calibrate on")
    calibration = fit(real_pixels(chosen), *generated_pixels(scans, seed))
    return {"fitted_on": f"{len(chosen)} of {len(paths)} scans in {Path(real_dir).name}/", **calibration}


def main(argv: list[str] | None = None) -> None:
    """Command line: fit and write the calibration."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, required=True, help="folder of real SIXray scans (e.g. negatives)")
    parser.add_argument("--scans", type=int, default=80, help="generated negatives to sample ratios from")
    parser.add_argument("--seed", type=int, default=0, help="seed of those generated negatives")
    parser.add_argument("--out", type=Path, default=CALIBRATION, help="where to write the calibration")
    args = parser.parse_args(argv)
    calibration = calibrate(args.real, args.scans, args.seed)
    args.out.write_text(json.dumps(calibration, separators=(",", ":")) + "\n")
    print(f"wrote {args.out}: {len(calibration['hue_anchors'])} hues, {len(calibration['bands'])} brightness bands")


if __name__ == "__main__":
    main()
