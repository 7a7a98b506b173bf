"""Generated datasets shared by the generator tests: the tiny preset once, and a micro preset for
tests that generate several times (determinism, overwrite)."""
from __future__ import annotations

from pathlib import Path

import pytest

from segloc.generator import PRESETS, Preset, generate

MICRO = Preset("micro", {"train": 6, "easy": 3, "hard": 3, "hidden": 3}, 6, 8, 1)


@pytest.fixture
def micro(monkeypatch: pytest.MonkeyPatch) -> str:
    """Registers a very small preset for the duration of one test and returns its name."""
    monkeypatch.setitem(PRESETS, MICRO.name, MICRO)
    return MICRO.name


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The tiny preset generated once (2 workers) with a preview: (output folder, summary)."""
    out = tmp_path_factory.mktemp("tiny")
    summary = generate(out, "tiny", seed=0, preview=out / "preview.png", workers=2)
    return out, summary
