"""The `segloc pretrain` / `segloc export` commands: help, config resolution, an end-to-end export."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from segloc.cli.pretrain import export_cmd, pretrain_cmd, resolve_config
from segloc.errors import ConfigError

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "pretrain" / "segloc-cpu-demo.yaml"


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("pretrain")(pretrain_cmd)
    app.command("export")(export_cmd)
    return app


def test_help_texts() -> None:
    runner = CliRunner()
    for command, words in (
        ("pretrain", ["--resume", "--set", "--stop-after"]),
        ("export", ["--format", "--out", "torchvision"]),
    ):
        result = runner.invoke(cli(), [command, "--help"])
        assert result.exit_code == 0
        assert all(w in result.output for w in words), result.output


def test_resolve_config_overrides_and_resume(tmp_path: Path) -> None:
    config = resolve_config(CONFIG, ["train.steps=7", "contrast.queue_size=64"], tmp_path, resume=False)
    assert config.train.steps == 7 and config.contrast.queue_size == 64 and config.method == "segloc"
    with pytest.raises(ConfigError, match="--config is required"):
        resolve_config(None, [], tmp_path, resume=True)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    again = resolve_config(None, [], tmp_path, resume=True)
    assert again == config
    with pytest.raises(ConfigError, match="train.accum_steps|divisible"):
        resolve_config(CONFIG, ["train.accum_steps=3"], tmp_path, resume=False)


def test_export_of_a_missing_checkpoint_names_the_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli(), ["export", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "b.safetensors")])
    assert result.exit_code != 0
    assert "nope.pt" in str(result.exception)


def test_export_takes_a_run_folder(tmp_path: Path) -> None:
    from pretrain_fakes import FakePairs, tiny_config

    from segloc.pretrain.trainer import pretrain

    run = pretrain(tiny_config("moco", "train.steps=1"), tmp_path / "run", pairs=(FakePairs(labelled=False), []))
    out = tmp_path / "b.safetensors"
    result = CliRunner().invoke(cli(), ["export", str(run.run_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and "b.safetensors" in result.output
