"""A tiny generated SIXray folder shared by the classification tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sixray_tiny(generated_tiny) -> Path:
    """``generate(preset="tiny", seed=0)``'s SIXray release layout (JPEGImage, Annotation, ImageSet)."""
    return generated_tiny[0] / "sixray"


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """One intra-op thread: on a busy 2-core machine two OpenMP threads were ~10x slower here."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
