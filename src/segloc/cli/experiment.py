"""`segloc experiment` and `segloc demo`: the paper's whole protocol in one command."""
from __future__ import annotations

from pathlib import Path

import typer

from segloc.errors import ConfigError
from segloc.experiment.config import STAGES


def experiment_cmd(
    config: str = typer.Option(..., "--config", help="configs/experiment/<name>.yaml, or just its name (demo, cpu-small, gpu, paper)."),
    out: Path = typer.Option(None, "--out", help="Run folder (default: runs/<name>)."),
    from_stage: str = typer.Option(None, "--from", help=f"Redo from this stage on: {', '.join(STAGES)}."),
    overrides: list[str] = typer.Option([], "--set", help="Override a config key, e.g. --set finetune.inits=[random,segloc]."),
) -> None:
    """Run the paper's protocol: regions, synthesis, pretraining per method, fine-tuning per init,
    evaluation on easy/hard/hidden and a report. Finished stages are skipped on a re-run."""
    from segloc.config import find_config, load_config
    from segloc.experiment.config import ExperimentConfig
    from segloc.experiment.pipeline import run_experiment

    if from_stage is not None and from_stage not in STAGES:  # before the run folder is touched
        raise ConfigError(f"--from {from_stage!r}: unknown stage; stages: {', '.join(STAGES)}")
    cfg = load_config(find_config(config), ExperimentConfig, overrides)
    run = run_experiment(cfg, out, from_stage)
    typer.echo(f"report: {run / 'report.md'}")
    typer.echo((run / "report.md").read_text(encoding="utf-8").split("## Table 1")[0])


def demo_cmd(
    out: Path = typer.Option(Path("runs/demo"), "--out", help="Run folder."),
    overrides: list[str] = typer.Option([], "--set", help="Override a key of the demo config, e.g. --set probe.enabled=false."),
) -> None:
    """The demo: `segloc experiment --config demo` on generated tiny data (about 5 minutes on 2 CPU cores)."""
    experiment_cmd(config="demo", out=out, from_stage=None, overrides=overrides)
