"""`segloc pretrain` and `segloc export`: contrastive pretraining runs and their backbone export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from segloc.cli.output import check_new_output
from segloc.errors import ConfigError

if TYPE_CHECKING:
    from segloc.models import BackboneWithFPN
    from segloc.pretrain.config import PretrainConfig


def resolve_config(config: Path | None, overrides: list[str], out: Path, resume: bool) -> PretrainConfig:
    """The run's config: ``--config`` + overrides, or (resuming without ``--config``) the run's own.

    Resuming with a config other than the run's own is refused by the trainer, naming the keys."""
    from segloc.config import find_config, load_config
    from segloc.pretrain.config import PretrainConfig

    saved = out / "config.yaml"
    if config is None:
        if not (resume and saved.is_file()):
            raise ConfigError("--config is required (only --resume of an existing run may omit it)")
        config = saved
    return load_config(find_config(config, "pretrain"), PretrainConfig, overrides)


def pretrain_cmd(
    config: Path = typer.Option(None, "--config", help="Pretraining YAML (configs/pretrain/*.yaml)."),
    overrides: list[str] = typer.Option([], "--set", help="Override a config key: --set train.steps=200 (repeatable)."),
    out: Path = typer.Option(None, "--out", help="Run folder (default: runs/pretrain/<config name>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its latest checkpoint."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Delete the segloc run in --out first."),
    stop_after: int = typer.Option(None, "--stop-after", help="Stop after this step (resume later)."),
) -> None:
    """Contrastive pretraining (SegLoc, InsLoc or MoCo v2) of a ResNet+FPN backbone on synthesised pairs."""
    if out is None:
        if config is None:
            raise ConfigError("give --out (the run folder) or --config")
        out = Path("runs") / "pretrain" / config.stem
    from segloc.pretrain.trainer import pretrain

    result = pretrain(
        resolve_config(config, overrides, out, resume), out, resume=resume, overwrite=overwrite, stop_at_step=stop_after
    )
    typer.echo(f"{result.run_dir}: step {result.step}, checkpoint {result.checkpoint}")


def export_cmd(
    run: Path = typer.Argument(..., help="Pretraining run folder (its latest checkpoint) or a checkpoint file."),
    out: Path = typer.Option(..., "--out", help="safetensors file to write."),
    fmt: str = typer.Option(
        "segloc", "--format", help="segloc (trunk+FPN+attention, detector keys) | torchvision (trunk)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
) -> None:
    """Export the pretrained query backbone for the detector (or as a torchvision ResNet)."""
    if fmt not in ("segloc", "torchvision"):
        raise typer.BadParameter("--format must be segloc or torchvision")
    check_new_output(out, overwrite)
    from segloc.pretrain.export import export_backbone

    typer.echo(f"wrote {export_backbone(run, out, fmt)}")  # type: ignore[arg-type]


def probe_cmd(
    backbones: list[str] = typer.Argument(
        ..., help="Backbone files (segloc exports, torchvision ResNets) or 'random'."
    ),
    data: Path = typer.Option(
        ...,
        "--data",
        help="PIDray root, or a folder holding the real box-only layout (sixray-det/): its train split is "
        "indexed, the test splits probed.",
    ),
    arch: str = typer.Option("resnet18", "--arch", help="Architecture of 'random' and of torchvision files."),
    splits: list[str] = typer.Option(
        None, "--split", help="Split(s) to probe (repeatable; default: easy, hard, hidden, or val for sixray-det)."
    ),
    width: int = typer.Option(320, "--width", help="Image width the boxes are pooled at."),
    k: int = typer.Option(20, "--k", help="Neighbours that vote."),
    max_images: int = typer.Option(None, "--max-images", help="Images per split (default: all)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random init."),
    holdout_every: int = typer.Option(
        5, "--holdout-every", help="Every n-th PIDray train image is held out as 'val' (sixray-det has its own)."
    ),
) -> None:
    """kNN probe: class top-1 of boxes from RoI-pooled backbone features (tune on 'val', held-out train images)."""
    import json

    import torch

    from segloc.detection.init import initialize_backbone
    from segloc.engine import resolve_device
    from segloc.evaluation.probe import knn_probe, root_probe_sets

    train, tests = root_probe_sets(data, splits or None, width, max_images, holdout_every)
    device = resolve_device("auto")
    results = {}
    for name in backbones:
        torch.manual_seed(seed)
        backbone = _probe_backbone(name, arch)
        initialize_backbone(backbone, name)
        results[name] = knn_probe(backbone, train, tests, k, device)
        typer.echo(
            f"{name}: "
            + ", ".join(f"{s} {r['top1']:.3f} (class mean {r['class_mean']:.3f})" for s, r in results[name].items())
            + f" (chance {max(r['chance'] for r in results[name].values()):.3f})"
        )
    typer.echo(json.dumps(results, indent=1))


def _probe_backbone(name: str, arch: str) -> BackboneWithFPN:
    """The network a segloc export records, else ``arch`` (random or torchvision files); a record or
    an --arch that builds no backbone is a one-line error."""
    from segloc.models import WeightsError, build_backbone, read_backbone_config, read_metadata
    from segloc.models.weights import FORMAT

    recorded = name != "random" and Path(name).suffix == ".safetensors" and read_metadata(name).get("format") == FORMAT
    kwargs = read_backbone_config(name) if recorded else {"arch": arch}
    try:
        return build_backbone(**kwargs)
    except (TypeError, ValueError) as exc:
        source = f"{name}: metadata 'config'" if recorded else "--arch"
        raise WeightsError(f"{source} does not describe a backbone ({exc})") from exc
