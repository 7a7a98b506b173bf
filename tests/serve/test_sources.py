"""What segloc serve finds in the folders it is given: a pretraining run's synthesised pairs, an
experiment folder's detector, CHR run and pairs."""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from segloc.detection.inference import Detector
from segloc.serve import find_sources


def test_a_pretraining_run_gives_a_gallery_of_its_pairs(pretrain_run: Path) -> None:
    sources = find_sources(pretrain_run)
    assert sources.detector is None and sources.classifier is None
    assert len(sources.gallery) == 6
    image = Image.open(io.BytesIO(sources.gallery[0]))
    assert image.format == "PNG" and image.width > image.height  # view 1 | view 2 side by side
    assert sources.origins == {"pairs": str(pretrain_run)}


def test_an_experiment_folder_gives_its_detector_chr_run_and_pairs(experiment_folder: Path) -> None:
    sources = find_sources(experiment_folder)
    assert isinstance(sources.detector, Detector) and sources.detector.categories.names == ("Block", "Disc", "Wedge")
    assert sources.classifier.class_names == ["Gun", "Knife", "Wrench", "Pliers", "Scissors"]
    assert len(sources.gallery) == 6
    assert sources.origins["detector"].endswith("finetune/segloc/model_final.pt")
    assert set(sources.origins) == {"detector", "chr", "pairs"}
