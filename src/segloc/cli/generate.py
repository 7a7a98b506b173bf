"""`segloc generate`: write the built-in X-ray scans in the PIDray and SIXray release layouts."""
from __future__ import annotations

import json
from pathlib import Path

import typer

# The preset sizes as `segloc generate --help` lists them, written out so that the help does not import the
# generator (and with it the data stack); tests/cli checks it against segloc.generator.presets.PRESETS.
PRESET_HELP = ("Dataset size (PIDray train/easy/hard/hidden; SIXray positives/negatives): tiny: 48/12/12/12, 40/120; "
               "small: 1200/200/200/200, 500/2000; medium: 8000/1000/1000/1000, 3000/15000. tiny for tests "
               "(seconds), small for CPU experiments, medium for GPU experiments.")


def generate_cmd(
    out: Path = typer.Option(..., "--out", help="Output folder; DIR/pidray and DIR/sixray are created in it."),
    preset: str = typer.Option("tiny", "--preset", help=PRESET_HELP),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same preset and seed give identical files."),
    preview: Path | None = typer.Option(None, "--preview", help="Also write a contact sheet of scans with boxes (PNG)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Processes rendering in parallel (output does not change)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace generated files in a non-empty output folder."),
) -> None:
    """Generate X-ray-like scans (dual-energy physics, 12 PIDray classes, bags with clutter) in the real
    PIDray (COCO json + PNG) and SIXray (JPEG, VOC xml, label CSVs) layouts, plus generator_meta.json.
    Prints a JSON summary of images and instances per split and class."""
    from segloc.generator import generate

    summary = generate(out, preset=preset, seed=seed, preview=preview, workers=workers, overwrite=overwrite)
    typer.echo(json.dumps(summary, indent=2))
