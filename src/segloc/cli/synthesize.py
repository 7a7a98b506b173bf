"""`segloc regions` and `segloc synthesize`: authentic regions and offline pair shards."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from segloc.cli.output import SKIP_BAD_HELP


def regions_cmd(
    folder: Path = typer.Argument(..., help="Folder of background scans (searched recursively)."),
    out: Path = typer.Option(
        None,
        "--out",
        help="regions.json to write (default: FOLDER/regions.json, where synthesis "
        "and pretraining find it); an existing one is reused, only new or changed files are computed.",
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="Parallel processes."),
    kernel: int = typer.Option(9, "--kernel", min=1, help="Erosion kernel size (paper: 9)."),
    threshold: int = typer.Option(50, "--threshold", min=0, max=254, help="Darkness threshold (paper: 50)."),
    pattern: str = typer.Option(
        None,
        "--glob",
        help="Only files whose name matches (default: the benign scans, N* in a SIXray JPEGImage folder, else all).",
    ),
) -> None:
    """Compute the authentic region (box around the bag) of every background scan of FOLDER, cached in --out."""
    from segloc.synthesis.region import compute_regions, default_regions_file

    out = out or default_regions_file(folder)
    table = compute_regions(folder, out, workers, kernel, threshold, pattern)
    typer.echo(
        f"wrote {out}: {len(table.regions)} regions, {len(table.no_region)} without region, "
        f"{len(table.unreadable)} unreadable"
    )


def synthesize_cmd(
    method: str = typer.Option(
        "segloc", "--method", help="segloc (segments of a labelled set) or insloc (baseline crops)."
    ),
    backgrounds: Path = typer.Option(..., "--backgrounds", help="Folder of background scans (e.g. SIXray JPEGImage)."),
    labelled: Path = typer.Option(
        None,
        "--labelled",
        help="Labels of the labelled set (segments; InsLoc: its images): a COCO json, a VOC xml or a YOLO txt folder.",
    ),
    images: Path = typer.Option(
        None, "--images", help="Image folder of --labelled (InsLoc alone: any foreground folder)."
    ),
    pairs: int = typer.Option(..., "--pairs", min=1, help="Number of pairs to write."),
    out: Path = typer.Option(..., "--out", help="Output folder of shards; rerun to resume an interrupted run."),
    workers: int = typer.Option(1, "--workers", min=1, help="Parallel processes."),
    shard_size: int = typer.Option(1000, "--shard-size", min=1, help="Pairs per shard folder."),
    seed: int = typer.Option(0, "--seed", min=0, help="Pair i is a function of (seed, i)."),
    preview: Path = typer.Option(None, "--preview", help="Also draw a gallery of the first pairs into this PNG."),
    regions: Path = typer.Option(
        None,
        "--regions",
        help="regions.json from `segloc regions` (default: the backgrounds "
        "folder's regions.json if present, else computed on the fly).",
    ),
    background_glob: str = typer.Option(
        None,
        "--background-glob",
        help="Only backgrounds whose name matches (default: "
        "the benign scans, N* in a SIXray JPEGImage folder, else all).",
    ),
    mode: str = typer.Option("blend", "--mode", help="SegLoc paste: blend (paper) or multiply (Beer-Lambert)."),
    target_width: int = typer.Option(500, "--target-width", min=16, help="SegLoc views are resized to this width."),
    jpeg_quality: int = typer.Option(
        None, "--jpeg-quality", min=1, max=100, help="Store views as JPEG (smaller, lossy) instead of PNG."
    ),
    skip_bad: bool = typer.Option(
        False,
        "--skip-bad",
        help=SKIP_BAD_HELP + " Applies to --labelled; unreadable backgrounds are always skipped with a warning.",
    ),
) -> None:
    """Write synthesised positive pairs (SegLoc Algorithm 1 or the InsLoc baseline) as resumable shards."""
    from segloc.synthesis.builder import PAIR_METHODS, synthesize
    from segloc.synthesis.insloc import InsLocConfig
    from segloc.synthesis.pairs import SegLocConfig

    if method not in PAIR_METHODS:
        raise typer.BadParameter(f"--method must be {' or '.join(PAIR_METHODS)}")
    if mode not in ("blend", "multiply"):
        raise typer.BadParameter("--mode must be blend or multiply")
    config = SegLocConfig(target_width=target_width, mode=mode) if method == "segloc" else InsLocConfig()
    summary = synthesize(
        method,
        backgrounds,
        out,
        pairs,
        labelled,
        images,
        workers,
        shard_size,
        seed,
        regions,
        preview,
        background_glob=background_glob,
        config=config,
        jpeg_quality=jpeg_quality,
        skip_bad=skip_bad,
    )
    typer.echo(json.dumps(summary))
