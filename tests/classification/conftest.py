"""A tiny generated SIXray folder shared by the classification tests."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sixray_tiny(tmp_path_factory) -> Path:
    """``generate(preset="tiny", seed=0)``'s SIXray release layout (JPEGImage, Annotation, ImageSet)."""
    from segloc.generator import generate

    out = tmp_path_factory.mktemp("chr-data")
    generate(out, preset="tiny", seed=0)
    return out / "sixray"
