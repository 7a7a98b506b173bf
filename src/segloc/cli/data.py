"""`segloc data ...`: inspect and convert datasets in their release formats."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from segloc.cli.output import SKIP_BAD_HELP, check_new_output
from segloc.data.convert import sixray_to_coco
from segloc.data.stats import dataset_stats, format_stats

app = typer.Typer(no_args_is_help=True, help="Inspect and convert PIDray / SIXray / COCO datasets.")


@app.command("stats")
def stats_cmd(
    path: Path = typer.Argument(..., help="PIDray root, SIXray root, or a COCO json file."),
    fmt: str = typer.Option(..., "--format", help="pidray | sixray | coco"),
    images: Path = typer.Option(None, help="Image folder of a COCO json (default: the json's folder)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_BAD_HELP),
    verify: bool = typer.Option(False, "--verify", help="Decode every image (slower, with progress): also finds "
                                "truncated or corrupt pixel data, not only broken headers."),
) -> None:
    """Count images, labelled images, positives/negatives, per-class objects, boxes and masks.

    Every record is checked on the way: a broken one stops with one line naming it (or, with
    --skip-bad, is counted under skipped_records). --verify also decodes every image."""
    if fmt not in ("pidray", "sixray", "coco"):
        raise typer.BadParameter("--format must be pidray, sixray or coco")
    stats = dataset_stats(path, fmt, skip_bad=skip_bad, images=images, verify=verify)  # type: ignore[arg-type]
    typer.echo(json.dumps(stats, indent=2) if as_json else format_stats(stats))


@app.command("sixray-to-coco")
def sixray_to_coco_cmd(
    root: Path = typer.Argument(..., help="SIXray root (JPEGImage/, Annotation/)."),
    out: Path = typer.Option(..., "--out", help="COCO json to write (file names relative to JPEGImage/)."),
    include_negatives: bool = typer.Option(False, help="Also list images without boxes."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_BAD_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
) -> None:
    """Convert SIXray's VOC xml boxes into a box-only COCO json for the detector."""
    check_new_output(out, overwrite)
    data = sixray_to_coco(root, out, include_negatives=include_negatives, skip_bad=skip_bad)
    typer.echo(f"wrote {out}: {len(data['images'])} images, {len(data['annotations'])} boxes")
