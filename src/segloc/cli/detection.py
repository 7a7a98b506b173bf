"""`segloc finetune | evaluate | report | detect`: the downstream detector, from fine-tuning to Table 1."""

from __future__ import annotations

from pathlib import Path

import typer

from segloc.cli.output import SKIP_BAD_HELP, check_new_output


def finetune_cmd(
    config: Path = typer.Option(
        None,
        "--config",
        help="YAML config (configs/finetune/*.yaml); with --resume, defaults to the run folder's saved config.yaml.",
    ),
    init: str = typer.Option(
        None,
        "--init",
        help="'random' or a weights file: segloc export (.safetensors) or "
        "torchvision ResNet file. Overrides the config's init (and its init_name, unless set).",
    ),
    overrides: list[str] = typer.Option([], "--set", help="Override a config key, e.g. --set train.epochs=2."),
    out: Path = typer.Option(None, "--out", help="Run folder (default: runs/finetune/<config name>-<init name>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its latest checkpoint."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Delete the segloc run in --out and start over."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_BAD_HELP + " Sets data.skip_bad."),
) -> None:
    """Fine-tune (Cascade) Mask R-CNN with the paper's recipe, then evaluate on the test splits present."""
    from segloc.config import find_config, load_config
    from segloc.detection.config import FinetuneConfig
    from segloc.detection.train import CONFIG_FILE, finetune

    if config is None and not (resume and out is not None and (out / CONFIG_FILE).is_file()):
        raise typer.BadParameter("--config is required (or --resume --out RUN with a saved config.yaml)")
    source = find_config(config, "finetune") if config is not None else out / CONFIG_FILE
    # A config's init_name belongs to its init: a new init is named from its file unless --set names it.
    renamed = ["init_name=null"] if init is not None else []
    extra = ([f"init={init}"] if init is not None else []) + (["data.skip_bad=true"] if skip_bad else [])
    cfg = load_config(source, FinetuneConfig, renamed + list(overrides) + extra)
    if out is None:
        init_label = "random" if cfg.init == "random" else Path(cfg.init).stem
        out = Path("runs") / "finetune" / f"{Path(source).stem}-{init_label}"
    run = finetune(cfg, out, resume=resume, overwrite=overwrite)
    metrics = run / "eval" / "metrics.json"
    typer.echo(f"run folder: {run}" + (f"\nmetrics: {metrics}" if metrics.is_file() else ""))


def evaluate_cmd(
    model: Path = typer.Argument(..., help="Run folder or model / checkpoint file."),
    data: Path = typer.Option(None, "--data", help="PIDray root (annotations/xray_test_*.json)."),
    split: str = typer.Option("all", "--split", help="easy | hard | hidden | all (every test split present)."),
    labels: Path = typer.Option(
        None,
        "--labels",
        "--coco",
        help="Evaluate on these labels instead of a PIDray root: "
        "a COCO json, a VOC xml folder or a YOLO txt folder (classes matched by name).",
    ),
    images: Path = typer.Option(None, "--images", help="Image folder of --labels (default: the format's usual place)."),
    classes: Path = typer.Option(None, "--classes", help="Class names file of VOC / YOLO --labels."),
    out: Path = typer.Option(None, "--out", help="Output folder (default: RUN/eval, or eval_<name> beside a file)."),
    batch_size: int = typer.Option(2, "--batch-size", help="Images per inference batch."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | cuda:N"),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_BAD_HELP),
) -> None:
    """COCO bbox / segm AP and AR per split and class (pycocotools), class mix-ups and PR curves; writes
    detections, metrics.json and report.md."""
    from segloc.detection.evaluate import REPORT_FILE, default_eval_dir, evaluate

    evaluate(model, data, split, labels, images, out, batch_size, device, skip_bad, classes)
    typer.echo((Path(out or default_eval_dir(model)) / REPORT_FILE).read_text(encoding="utf-8"))


def report_cmd(
    runs: list[Path] = typer.Argument(
        ...,
        help="Run folders (or metrics.json files): random, supervised, segloc...; NAME=RUN reports RUN as init "
        "NAME (e.g. a variant); runs of one init are also averaged.",
    ),
    out: Path = typer.Option(Path("report"), "--out", help="Folder for table1.md, table1.json, table1_ap.png."),
    paired: list[str] = typer.Option(
        [],
        "--paired",
        help="FIRST:SECOND (repeatable): FIRST minus SECOND run by run, the k-th run of each in the order given "
        "(give both inits' runs in the same seed order), with the mean's standard error.",
    ),
) -> None:
    """Table 1 of the paper from several runs, each init's seeds averaged, with differences to random init."""
    from segloc.evaluation.report import parse_pair, write_report

    write_report(runs, out, [parse_pair(p) for p in paired])
    typer.echo((out / "table1.md").read_text(encoding="utf-8"))
    typer.echo(f"written to {out}/table1.md, table1.json, table1_ap.png")


def detect_cmd(
    model: Path = typer.Argument(
        ...,
        help="Run folder, model / checkpoint file, or an exported .onnx / TorchScript "
        "file (segloc export-detector; runs on the CPU).",
    ),
    images: list[Path] = typer.Argument(..., help="Image files or folders of images."),
    out: Path = typer.Option(..., "--out", help="Predictions json to write."),
    draw: Path = typer.Option(None, "--draw", help="Folder for overlays with boxes, masks and class names."),
    score_thr: float = typer.Option(0.5, "--score-thr", help="Keep detections scoring at least this."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | cuda:N"),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_BAD_HELP),
) -> None:
    """Run a fine-tuned detector on any scans."""
    from segloc.detection.inference import detect_files

    records = detect_files(model, images, out, draw, score_thr, device, skip_bad)
    total = sum(len(r["detections"]) for r in records)
    typer.echo(f"{total} detections in {len(records)} images -> {out}")


def export_detector_cmd(
    model: Path = typer.Argument(..., help="Run folder or model / checkpoint file."),
    fmt: str = typer.Option("onnx", "--format", help="onnx (onnxruntime) | torchscript (torch.jit)."),
    out: Path = typer.Option(..., "--out", help="File to write, e.g. detector.onnx or detector.pt."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
) -> None:
    """Export a detector as one self-contained ONNX / TorchScript file (scan in; boxes, scores, labels, masks out)."""
    from segloc.detection.export import export_detector

    check_new_output(out, overwrite)
    typer.echo(f"wrote {export_detector(model, out, fmt)}")
