"""Shared fixtures: the real sample scans beside the repository (skipped when absent)."""
from __future__ import annotations

from pathlib import Path

import pytest

REAL_SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "real-samples"


@pytest.fixture(scope="session")
def real_samples() -> Path:
    if not REAL_SAMPLES.is_dir():
        pytest.skip(f"real samples not found at {REAL_SAMPLES}")
    return REAL_SAMPLES


@pytest.fixture(scope="session")
def generated_tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The generator's tiny preset (seed 0, with a preview), made once for the whole test session:
    (output folder holding pidray/, sixray/ and generator_meta.json, generation summary).
    Tests must treat it as read-only."""
    from segloc.generator import generate

    out = tmp_path_factory.mktemp("generated-tiny")
    summary = generate(out, "tiny", seed=0, preview=out / "preview.png", workers=2)
    return out, summary
