"""Backbone initialisation for fine-tuning: random, a segloc export, or a torchvision ResNet file.

The load is reported key by key (loaded / missing / unexpected / mis-shaped) and fails loudly,
naming the file, when it covers less than ``min_fraction`` of the trunk: a pretrained init that
silently loads nothing would make a "pretrained" run a random-init run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from segloc.models import BackboneWithFPN, LoadReport, load_backbone_weights, read_metadata
from segloc.models.weights import FORMAT, WeightsError

log = logging.getLogger("segloc")
RANDOM = "random"


@dataclass
class InitResult:
    """How the backbone was initialised: a short name for reports, the file, and the load report."""

    name: str
    path: str | None = None
    report: LoadReport | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "path": self.path, "report": asdict(self.report) if self.report else None}


def init_name(path: str | Path) -> str:
    """Report name of an init file: the export's recorded method (segloc, insloc, moco, chr...) or "supervised"."""
    path = Path(path)
    if path.suffix != ".safetensors":
        return "supervised"
    meta = read_metadata(path)
    if meta.get("format") != FORMAT:
        return "supervised"
    return meta.get("method", "ssl")


def initialize_backbone(
    backbone: BackboneWithFPN, init: str, min_fraction: float = 0.5, name: str | None = None
) -> InitResult:
    """Leave the backbone random (``init == "random"``) or load ``init`` into it, logging the full report."""
    if init == RANDOM:
        log.info("backbone initialisation: random")
        return InitResult(name or RANDOM)
    path = Path(init)
    if not path.is_file():
        raise WeightsError(f"{path}: init weights file not found (use --init random for a random start)")
    report = load_backbone_weights(backbone, path, min_fraction=min_fraction)
    log.info("backbone initialisation from %s\n%s", path, report.summary())
    return InitResult(name or init_name(path), str(path), report)


def write_init_report(result: InitResult, path: Path) -> None:
    """Write every loaded / missing / unexpected key to a json file in the run folder."""
    path.write_text(json.dumps(result.to_dict(), indent=1), encoding="utf-8")
