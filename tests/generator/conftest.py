"""Generated datasets shared by the generator tests: the tiny preset once, and a micro preset for
tests that generate several times (determinism, overwrite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from segloc.generator import PRESETS, Preset

MICRO = Preset("micro", {"train": 6, "easy": 3, "hard": 3, "hidden": 3}, 6, 8, 1)


@pytest.fixture
def micro(monkeypatch: pytest.MonkeyPatch) -> str:
    """Registers a very small preset for the duration of one test and returns its name."""
    monkeypatch.setitem(PRESETS, MICRO.name, MICRO)
    return MICRO.name


@pytest.fixture(scope="session")
def tiny(generated_tiny: tuple[Path, dict]) -> tuple[Path, dict]:
    """The tiny preset generated once per session with a preview: (output folder, summary)."""
    return generated_tiny
