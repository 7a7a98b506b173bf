"""Preview sheet of generated SIXray negatives for judging the generator's realism by eye; with --real, a
row of real scans from that folder on top of them (for local use only: real SIXray scans are for academic
research and must not be committed or shipped, so the committed sheet in docs/ holds generated scans only).
The generated scans are the first negatives of ``segloc generate --preset small --seed SEED``; the real ones
are spread evenly over the sorted files of --real.

    python benchmarks/preview_realism.py [--seed 8191] [--count 4] [--rows 2]   # -> docs/generated-scans.png
    python benchmarks/preview_realism.py --real ../shared/real-dev/backgrounds  # -> runs/preview/real-vs-generated.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
from bench_generator import REALISM_SEEDS

from segloc.data.images import read_rgb
from segloc.generator.plan import sixray_tasks
from segloc.generator.presets import PRESETS
from segloc.generator.preview import contact_sheet, draw_tile
from segloc.generator.scan import render_scan

ROOT = Path(__file__).resolve().parents[1]
GENERATED_ONLY = ROOT / "docs" / "generated-scans.png"
WITH_REAL = ROOT / "runs" / "preview" / "real-vs-generated.png"  # runs/ is ignored by git
SHRINK = 0.7  # keeps the sheet a small figure (a few hundred KB)


def real_tiles(folder: Path, count: int) -> list:
    """Tiles of `count` real scans spread evenly over the sorted *.jpg / *.png of `folder`."""
    real = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not real:
        raise SystemExit(f"{folder}: no real scans (*.jpg, *.png) found")
    return [draw_tile(read_rgb(p), [], f"real: {p.name}") for p in real[:: max(1, len(real) // count)][:count]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, help="folder of real scans to show in a row above the generated ones")
    parser.add_argument("--seed", type=int, default=REALISM_SEEDS[0])
    parser.add_argument("--count", type=int, default=4, help="scans per row")
    parser.add_argument("--rows", type=int, default=2, help="rows of generated scans")
    parser.add_argument(
        "--out",
        type=Path,
        help=f"image to write (default: {GENERATED_ONLY.relative_to(ROOT)}, "
        f"or {WITH_REAL.relative_to(ROOT)} with --real)",
    )
    args = parser.parse_args()
    tiles = real_tiles(args.real, args.count) if args.real else []
    negatives = [t for t in sixray_tasks(PRESETS["small"], args.seed) if t.split == "negative"][
        : args.count * args.rows
    ]
    tiles += [draw_tile(render_scan(t.plan, t.rng()).image, [], f"generated: {Path(t.path).name}") for t in negatives]
    out = args.out or (WITH_REAL if args.real else GENERATED_ONLY)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet = cv2.resize(contact_sheet(tiles, cols=args.count), None, fx=SHRINK, fy=SHRINK, interpolation=cv2.INTER_AREA)
    if not cv2.imwrite(str(out), sheet[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise SystemExit(f"{out}: could not write the preview image")
    print(out)


if __name__ == "__main__":
    main()
