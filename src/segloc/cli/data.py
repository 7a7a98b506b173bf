"""`segloc data ...`: inspect and convert datasets in their release formats."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from segloc.cli.output import SKIP_BAD_HELP, check_new_folder, check_new_output

app = typer.Typer(no_args_is_help=True, help="Inspect and convert PIDray / SIXray / COCO / VOC / YOLO datasets.")
FORMATS = ("pidray", "sixray", "coco", "voc", "yolo")


@app.command("stats")
def stats_cmd(
    path: Path = typer.Argument(..., help="PIDray root, SIXray root, a COCO json, or a VOC xml / YOLO txt folder."),
    fmt: str = typer.Option(..., "--format", help=" | ".join(FORMATS)),
    images: Path = typer.Option(None, "--images", help="Image folder of coco / voc / yolo labels (default: the json's "
                                "folder, VOC's JPEGImages/, YOLO's images/ or the labels folder)."),
    classes: Path = typer.Option(None, "--classes", help="Class names file of voc / yolo labels (default: "
                                 "classes.txt, *.names or data.yaml beside them)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_BAD_HELP),
    verify: bool = typer.Option(False, "--verify", help="Decode every image (slower, with progress): also finds "
                                "truncated or corrupt pixel data, not only broken headers."),
) -> None:
    """Count images, labelled images, positives/negatives, per-class objects, boxes and masks.

    Every record is checked on the way: a broken one stops with one line naming it (or, with
    --skip-bad, is counted under skipped_records). --verify also decodes every image."""
    from segloc.data.stats import dataset_stats, format_stats

    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    stats = dataset_stats(path, fmt, skip_bad=skip_bad, images=images, verify=verify,  # type: ignore[arg-type]
                          classes=classes)
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
    from segloc.data.convert import sixray_to_coco

    check_new_output(out, overwrite)
    data = sixray_to_coco(root, out, include_negatives=include_negatives, skip_bad=skip_bad)
    typer.echo(f"wrote {out}: {len(data['images'])} images, {len(data['annotations'])} boxes")


@app.command("convert")
def convert_cmd(
    source: Path = typer.Argument(..., help="Labels to read: a COCO json, a VOC xml folder or a YOLO txt folder."),
    to: str = typer.Option(..., "--to", help="coco (a json file) | voc (a folder of xml) | yolo (a folder of txt)."),
    out: Path = typer.Option(..., "--out", help="json file (coco) or folder (voc, yolo) to write."),
    images: Path = typer.Option(None, "--images", help="Image folder of SOURCE (default: the format's usual place)."),
    classes: Path = typer.Option(None, "--classes", help="Class names file of VOC / YOLO SOURCE labels."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_BAD_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
) -> None:
    """Convert labels between COCO, VOC and YOLO (boxes; COCO keeps masks); images are not copied."""
    from segloc.data.convert import convert_labels
    from segloc.data.formats import LABEL_FORMATS

    if to not in LABEL_FORMATS:
        raise typer.BadParameter(f"--to must be one of {', '.join(LABEL_FORMATS)}")
    (check_new_output if to == "coco" else check_new_folder)(out, overwrite)
    dataset = convert_labels(source, to, out, images, classes, skip_bad)  # type: ignore[arg-type]
    boxes = sum(len(r.instances) for r in dataset.images)
    typer.echo(f"wrote {out} ({to}): {len(dataset.images)} images, {boxes} objects, "
               f"{len(dataset.categories)} classes; images stay in {dataset.image_root}")
