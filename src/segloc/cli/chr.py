"""`segloc chr ...`: train, evaluate and export the SIXray CHR classifier."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from segloc.cli.output import SKIP_BAD_HELP, check_new_output

if TYPE_CHECKING:
    from segloc.classification.config import ChrConfig

app = typer.Typer(no_args_is_help=True, help="SIXray CHR classifier: train, evaluate (mAP, CAM pointing), export.")


def train_config(
    config: Path | None, overrides: list[str], out: Path, resume: bool, options: dict[str, dict[str, str | bool | None]]
) -> ChrConfig:
    """The run's config: ``config`` (or, on resume without one, the run's ``config.yaml``), then
    ``--set`` overrides, then the explicit CLI options given ({section: {key: value or None}})."""
    from pydantic import ValidationError

    from segloc.classification.config import ChrConfig
    from segloc.config import find_config, load_config
    from segloc.errors import ConfigError

    base = find_config(config, "chr") if config is not None else None
    if base is None and resume and (out / "config.yaml").is_file():
        base = out / "config.yaml"
    cfg = load_config(base, ChrConfig, overrides)
    for section, values in options.items():
        for key, value in values.items():
            if value is None:
                continue
            try:
                setattr(getattr(cfg, section), key, value)
            except ValidationError as exc:
                raise ConfigError(f"--{key}: {exc.errors()[0]['msg']}") from exc
    return cfg


@app.command("train")
def train_cmd(
    out: Path = typer.Option(..., "--out", help="Run folder (config, checkpoints, logs, reports)."),
    data: Path = typer.Option(None, "--data", help="SIXray root (JPEGImage/, ImageSet/, Annotation/)."),
    subset: str = typer.Option(None, "--subset", help="SIXray subset: 10, 100 or 1000 (ImageSet/<subset>/)."),
    arch: str = typer.Option(None, "--arch", help="resnet18|34|50|101, densenet121, inception_v3."),
    variant: str = typer.Option(None, "--variant", help="chr | baseline | h | ch | hr (paper Table 4)."),
    config: Path = typer.Option(None, "--config", help="YAML config, e.g. configs/chr/cpu-demo.yaml."),
    overrides: list[str] = typer.Option([], "--set", help="Override a config value: section.key=value."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in OUT from its latest checkpoint."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Delete the segloc run in OUT first."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_BAD_HELP),
) -> None:
    """Train CHR on ImageSet/<subset>/train.csv, then evaluate on test.csv (metrics.json, report.md)."""
    from segloc.classification.train import train
    from segloc.engine import is_main

    options = {
        "data": {"root": str(data) if data else None, "subset": subset, "skip_bad": skip_bad or None},
        "model": {"arch": arch, "variant": variant},
    }
    cfg = train_config(config, overrides, out, resume, options)
    run_dir = train(cfg, out, resume=resume, overwrite=overwrite)
    report = run_dir / "report.md"
    if is_main():
        typer.echo(report.read_text(encoding="utf-8") if report.is_file() else f"trained: {run_dir}")


@app.command("evaluate")
def evaluate_cmd(
    run: Path = typer.Argument(..., help="Run folder or checkpoint file."),
    data: Path = typer.Option(..., "--data", help="SIXray root."),
    subset: str = typer.Option(None, "--subset", help="Subset whose test.csv to use (default: the run's)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    out: Path = typer.Option(None, "--out", help="Folder for metrics.json and report.md (default: the run folder)."),
    ap_method: str = typer.Option(None, "--ap-method", help="reference (authors' code, default) | voc07 | area."),
    tolerance: float = typer.Option(None, "--tolerance", help="Pointing tolerance in px (default: the run's, 0)."),
    cam_image: str = typer.Option(None, "--cam-image", help="Image name (e.g. P00024) for a CAM picture."),
    cam_out: Path = typer.Option(None, "--cam-out", help="PNG file for the CAM picture."),
) -> None:
    """Per-class AP + mAP and CAM pointing accuracy on the test split; optionally a CAM picture."""
    from segloc.classification.evaluate import (
        evaluate_run,
        load_trained,
        report_markdown,
        save_cam_picture,
    )
    from segloc.engine import resolve_device

    if (cam_image is None) != (cam_out is None):
        raise typer.BadParameter("--cam-image and --cam-out go together")
    metrics = evaluate_run(run, data, subset, device, out, ap_method, tolerance)
    typer.echo(report_markdown(metrics))
    if cam_image is not None:
        model, config, class_names = load_trained(run, resolve_device(device))
        save_cam_picture(model, data, cam_image, cam_out, class_names, config.data.image_size)
        typer.echo(f"wrote {cam_out}")


@app.command("export")
def export_cmd(
    run: Path = typer.Argument(..., help="Run folder or checkpoint file."),
    out: Path = typer.Option(..., "--out", help="File to write (.safetensors or .onnx)."),
    fmt: str = typer.Option(
        "safetensors",
        "--format",
        help="safetensors: the ResNet trunk, to initialise the "
        "detector | onnx: the whole classifier (scan in; class probabilities and CAMs out).",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
) -> None:
    """Export the trunk (segloc backbone format, for the detector) or the whole classifier as ONNX."""
    from segloc.classification.export import export_chr

    check_new_output(out, overwrite)
    typer.echo(f"wrote {export_chr(run, out, fmt)}")
