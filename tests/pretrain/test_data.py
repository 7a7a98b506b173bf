"""The pretraining data config reaches the pair sampler: composition range and paste mode, checked keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from segloc.pretrain.config import DataConfig
from segloc.pretrain.data import build_pairs


def test_composition_and_paste_mode_reach_the_pairs(generated_tiny: tuple[Path, dict]) -> None:
    root = generated_tiny[0]
    config = DataConfig(
        pidray=root / "pidray",
        backgrounds=root / "sixray" / "JPEGImage",
        target_width=96,
        composition=(0.4, 0.45),
        paste_mode="multiply",
        pairs_per_epoch=4,
    )
    dataset, classes = build_pairs(config, seed=0)
    assert classes and dataset.sampler.config.mode == "multiply"
    drawn = [c for i in range(4) for c in dataset.sampler(i).info["composition"]]
    assert all(0.4 <= c <= 0.45 for c in drawn)


@pytest.mark.parametrize("composition", [(0.5, 0.4), (0.0, 0.5), (0.2, 1.5)])
def test_a_bad_composition_range_names_the_key(composition: tuple[float, float]) -> None:
    with pytest.raises(ValidationError, match="data.composition"):
        DataConfig(pidray="p", backgrounds="b", composition=composition)


def test_an_unknown_paste_mode_is_refused() -> None:
    with pytest.raises(ValidationError, match="paste_mode"):
        DataConfig(pidray="p", backgrounds="b", paste_mode="add")
