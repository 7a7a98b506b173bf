"""`segloc generate`: write the built-in X-ray scans in the PIDray and SIXray release layouts."""
from __future__ import annotations

import json
from pathlib import Path

import typer


def generate_cmd(
    out: Path = typer.Option(..., "--out", help="Output folder; DIR/pidray and DIR/sixray are created in it."),
    preset: str = typer.Option(
        "tiny", "--preset",
        help="Dataset size: tiny (tests and the demo, seconds), small (CPU experiments) or medium (GPU "
        "experiments); the printed summary counts what was written.",
    ),
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
