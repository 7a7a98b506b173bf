"""Preview sheet of real SIXray negatives (top row) beside generated ones (bottom row), for judging the
generator's realism by eye. The generated scans are the first --count negatives of ``segloc generate
--preset small --seed SEED``; the real ones are spread evenly over the sorted files of --real.

    python benchmarks/preview_realism.py [--real ../shared/real-dev/backgrounds] [--seed 7] [--count 4]
                                         [--out benchmarks/results/generator-realism/preview.png]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2

from segloc.data.images import read_rgb
from segloc.generator.plan import sixray_tasks
from segloc.generator.presets import PRESETS
from segloc.generator.preview import contact_sheet, draw_tile
from segloc.generator.scan import render_scan

HERE = Path(__file__).resolve().parent
REAL_BACKGROUNDS = HERE.parents[1] / "shared" / "real-dev" / "backgrounds"
SHRINK = 0.7  # keeps the sheet a small figure (a few hundred KB)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=REAL_BACKGROUNDS, help="folder of real scans (*.jpg)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--count", type=int, default=4, help="scans per row")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "generator-realism" / "preview.png")
    args = parser.parse_args()
    real = sorted(args.real.glob("*.jpg"))
    if not real:
        raise SystemExit(f"{args.real}: no real scans (*.jpg) found")
    picked = real[:: max(1, len(real) // args.count)][: args.count]
    tiles = [draw_tile(read_rgb(p), [], f"real: {p.name}") for p in picked]
    negatives = [t for t in sixray_tasks(PRESETS["small"], args.seed) if t.split == "negative"][: args.count]
    tiles += [draw_tile(render_scan(t.plan, t.rng()).image, [], f"generated: {Path(t.path).name}") for t in negatives]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet = cv2.resize(contact_sheet(tiles, cols=args.count), None, fx=SHRINK, fy=SHRINK, interpolation=cv2.INTER_AREA)
    if not cv2.imwrite(str(args.out), sheet[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise SystemExit(f"{args.out}: could not write the preview image")
    print(args.out)


if __name__ == "__main__":
    main()
