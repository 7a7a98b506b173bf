"""`segloc pretrain` and `segloc export`: contrastive pretraining runs and their backbone export."""
from __future__ import annotations

from pathlib import Path

import typer
import yaml

from segloc.config import load_config
from segloc.errors import ConfigError, log
from segloc.pretrain.config import PretrainConfig


def resolve_config(config: Path | None, overrides: list[str], out: Path, resume: bool) -> PretrainConfig:
    """The run's config: ``--config`` + overrides, or (resuming without ``--config``) the run's own."""
    saved = out / "config.yaml"
    if config is None:
        if not (resume and saved.is_file()):
            raise ConfigError("--config is required (only --resume of an existing run may omit it)")
        config = saved
    resolved = load_config(config, PretrainConfig, overrides)
    if resume and saved.is_file() and saved.resolve() != config.resolve():
        before = yaml.safe_load(saved.read_text(encoding="utf-8"))
        if before != resolved.model_dump(mode="json"):
            log.warning("%s differs from the config the run started with (%s); resuming with the new one",
                        config, saved)
    return resolved


def pretrain_cmd(
    config: Path = typer.Option(None, "--config", help="Pretraining YAML (configs/pretrain/*.yaml)."),
    overrides: list[str] = typer.Option([], "--set", help="Override a config key: --set train.steps=200 (repeatable)."),
    out: Path = typer.Option(None, "--out", help="Run folder (default: runs/pretrain/<config name>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its latest checkpoint."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Delete an existing run folder first."),
    stop_after: int = typer.Option(None, "--stop-after", help="Stop after this many steps (resume later)."),
) -> None:
    """Contrastive pretraining (SegLoc, InsLoc or MoCo v2) of a ResNet+FPN backbone on synthesised pairs."""
    if out is None:
        if config is None:
            raise ConfigError("give --out (the run folder) or --config")
        out = Path("runs") / "pretrain" / config.stem
    from segloc.pretrain.trainer import pretrain

    result = pretrain(resolve_config(config, overrides, out, resume), out, resume=resume, overwrite=overwrite,
                      stop_after=stop_after)
    typer.echo(f"{result.run_dir}: step {result.step}, checkpoint {result.checkpoint}")


def export_cmd(
    checkpoint: Path = typer.Argument(..., help="A pretraining checkpoint (RUN/checkpoints/step_*.pt)."),
    out: Path = typer.Option(..., "--out", help="safetensors file to write."),
    fmt: str = typer.Option("segloc", "--format", help="segloc (trunk+FPN+attention, detector keys) | torchvision (trunk)."),
) -> None:
    """Export the pretrained query backbone for the detector (or as a torchvision ResNet)."""
    if fmt not in ("segloc", "torchvision"):
        raise typer.BadParameter("--format must be segloc or torchvision")
    from segloc.pretrain.export import export_backbone

    typer.echo(f"wrote {export_backbone(checkpoint, out, fmt)}")  # type: ignore[arg-type]
