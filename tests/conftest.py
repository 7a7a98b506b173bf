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
