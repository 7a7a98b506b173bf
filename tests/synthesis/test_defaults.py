"""Defaults a newcomer relies on: backgrounds are the benign scans where the layout says which they are,
and the regions file `segloc regions` wrote is found by synthesis without being named."""
from __future__ import annotations

import logging
import shutil

import typer
from typer.testing import CliRunner

from segloc.cli.synthesize import regions_cmd
from segloc.synthesis.backgrounds import BackgroundBank
from segloc.synthesis.builder import build_sampler
from segloc.synthesis.region import background_glob, default_regions_file


def _sixray_folder(handmade, tmp_path):
    """A SIXray-style JPEGImage folder: the hand-made benign scans plus two positives (P*)."""
    folder = tmp_path / "sixray" / "JPEGImage"
    shutil.copytree(handmade.backgrounds, folder)
    for i, source in enumerate(sorted(folder.iterdir())[:2]):
        shutil.copy(source, folder / f"P{i:05d}{source.suffix}")
    return folder


def test_sixray_backgrounds_default_to_the_benign_scans(handmade, tmp_path):
    folder = _sixray_folder(handmade, tmp_path)
    assert background_glob(folder) == "N*" and background_glob(handmade.backgrounds) == "*"
    assert background_glob(folder, "*") == "*"
    bank = BackgroundBank(folder)
    assert bank.files == sorted(handmade.bags) and not any(f.startswith("P") for f in bank.files)


def test_regions_written_by_the_cli_are_reused_by_synthesis(handmade, tmp_path, caplog):
    folder = _sixray_folder(handmade, tmp_path)
    app = typer.Typer()
    app.command("regions")(regions_cmd)
    app.command("unused")(lambda: None)
    result = CliRunner().invoke(app, ["regions", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"{len(handmade.bags)} regions" in result.output  # the benign scans only
    assert default_regions_file(folder).is_file()
    with caplog.at_level(logging.INFO, logger="segloc"):
        sampler, manifest = build_sampler("segloc", folder, handmade.labelled, handmade.images)
    assert f"authentic regions from {default_regions_file(folder)}" in caplog.text
    assert manifest["background_glob"] == "N*" and manifest["n_backgrounds"] == len(handmade.bags)
    assert sampler.backgrounds.table is not None
