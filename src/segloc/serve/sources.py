"""What ``segloc serve`` shows, found in the folders it is given: a detector, a CHR classifier and a
gallery of synthesised pairs.

RUN may be a fine-tuning run folder, a model file or an exported detector (the detector), a
pretraining run folder (its pairs, synthesised from its own config), or an experiment folder
(``segloc experiment`` / ``segloc demo``: a fine-tuned detector, the CHR run and a pretraining
run's pairs, whichever it holds). ``--chr RUN`` adds or replaces the classifier.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from segloc.classification.chr import CHRNet
from segloc.classification.evaluate import load_trained
from segloc.config import load_config
from segloc.detection.inference import Detector, open_detector, resolve_model_path
from segloc.detection.runtime import ExportedDetector, is_export
from segloc.engine.runfiles import FINAL_MODEL
from segloc.errors import ConfigError, SeglocError

GALLERY_PAIRS = 6
# Which fine-tuned detector of an experiment folder to show first, and which pretraining run's pairs.
DETECTOR_INITS = ("segloc", "insloc", "moco", "supervised", "chr", "random")
PAIR_METHODS = ("segloc", "insloc", "moco")


@dataclass
class Classifier:
    """A trained CHR model with its class names and input size."""

    model: CHRNet
    class_names: list[str]
    size: int


@dataclass
class Sources:
    """Everything one server shows; ``origins`` names the folder or file each part came from."""

    detector: Detector | ExportedDetector | None = None
    classifier: Classifier | None = None
    gallery: list[bytes] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)


def load_classifier(path: Path | str, device: torch.device) -> Classifier:
    """A CHR run folder or checkpoint, ready for inference on ``device``."""
    model, config, class_names = load_trained(path, device)
    return Classifier(model, class_names, config.data.image_size)


def pretrain_config(folder: Path):
    """The pretraining config saved in ``folder``, or None when ``folder`` is not a pretraining run."""
    from segloc.pretrain.config import PretrainConfig

    if not (folder / "config.yaml").is_file():
        return None
    try:
        return load_config(folder / "config.yaml", PretrainConfig)
    except ConfigError:
        return None


def pair_gallery(folder: Path, count: int = GALLERY_PAIRS) -> list[bytes]:
    """PNGs of the first ``count`` pairs the pretraining run in ``folder`` trains on (one pair each)."""
    from segloc.pretrain.data import build_pairs
    from segloc.synthesis.dataset import SamplerPairDataset
    from segloc.synthesis.preview import draw_gallery

    config = pretrain_config(folder)
    dataset, _ = build_pairs(config.data, config.train.seed)
    if isinstance(dataset, SamplerPairDataset):
        pairs = [dataset.sampler(i) for i in range(count)]
        segments = getattr(dataset.sampler, "segments", None)
        categories = segments.categories if segments is not None else {}
    else:
        pairs = [dataset.reader[i] for i in range(min(count, len(dataset)))]
        categories = {int(k): v for k, v in dataset.reader.manifest.get("categories", {}).items()}
    with tempfile.TemporaryDirectory(prefix="segloc-serve-") as tmp:
        return [draw_gallery([pair], categories, Path(tmp) / f"pair_{k}.png").read_bytes()
                for k, pair in enumerate(pairs)]


def _experiment_parts(folder: Path) -> tuple[Path | None, Path | None, Path | None]:
    """(detector run, CHR run, pretraining run) of an experiment folder; None where it has none."""
    detector = next((folder / "finetune" / init for init in DETECTOR_INITS
                     if (folder / "finetune" / init / "model_final.pt").is_file()), None)
    chr_run = folder / "chr" if (folder / "chr" / FINAL_MODEL).is_file() else None
    pretrain = next((folder / "pretrain" / m for m in PAIR_METHODS if pretrain_config(folder / "pretrain" / m)), None)
    return detector, chr_run, pretrain


def find_sources(run: Path | str, chr_run: Path | str | None = None, device: str | torch.device = "cpu") -> Sources:
    """Load what RUN (and ``chr_run``) hold; an error naming RUN when it holds nothing to show."""
    run, device = Path(run), torch.device(device)
    detector_run: Path | None = None
    pretrain_run: Path | None = None
    if run.is_dir() and (run / "experiment.yaml").is_file():
        detector_run, found_chr, pretrain_run = _experiment_parts(run)
        chr_run = chr_run or found_chr
    elif run.is_dir() and pretrain_config(run) is not None:
        pretrain_run = run
    elif run.exists():
        detector_run = run
    else:
        raise SeglocError(f"{run}: no such run folder or model file")
    sources = Sources()
    if detector_run is not None:
        sources.detector = open_detector(detector_run, device)
        sources.origins["detector"] = str(detector_run if is_export(detector_run) else resolve_model_path(detector_run))
    if chr_run is not None:
        sources.classifier = load_classifier(chr_run, device)
        sources.origins["chr"] = str(chr_run)
    if pretrain_run is not None:
        sources.gallery = pair_gallery(pretrain_run)
        sources.origins["pairs"] = str(pretrain_run)
    if sources.detector is None and sources.classifier is None and not sources.gallery:
        raise SeglocError(f"{run}: holds no fine-tuned detector, CHR run or pretraining run to show")
    return sources
