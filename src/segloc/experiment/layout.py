"""Where an experiment keeps each file of its run folder, and which fine-tuning runs it holds.

One home for the layout, read by the pipeline (which writes the files) and by the report (which
only reads them)::

    <run>/experiment.yaml  stages.json  regions.json  probe.json  report.md  report.json
    <run>/data/            generated data, or resized copies of a real set (data/real)
    <run>/pretrain/<method>/backbone.safetensors
    <run>/chr/backbone.safetensors
    <run>/finetune/<run name>/eval/metrics.json      (one folder per init, seed and budget)
    <run>/figures/         galleries, curves, detections
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segloc.experiment.config import ExperimentConfig

BACKBONE_FILE = "backbone.safetensors"


@dataclass(frozen=True)
class FinetuneRun:
    """One fine-tuning run: its folder name, its row in the tables (the name without the budget, e.g.
    ``segloc-seed1``), init, seed, and budget in epochs (None: the fine-tuning config's schedule)."""

    name: str
    row: str
    init: str
    seed: int
    epochs: float | None = None


def budget_suffix(epochs: float) -> str:
    """The folder suffix of a shorter budget (``-e0.5``, ``-e2``)."""
    return f"-e{epochs:g}"


class RunLayout:
    """Paths of one experiment's run folder."""

    def __init__(self, run: Path | str, config: ExperimentConfig) -> None:
        self.run = Path(run)
        self.cfg = config

    @property
    def config_file(self) -> Path:
        return self.run / "experiment.yaml"

    @property
    def regions_file(self) -> Path:
        return self.run / "regions.json"

    @property
    def probe_file(self) -> Path:
        return self.run / "probe.json"

    @property
    def figures(self) -> Path:
        return self.run / "figures"

    @property
    def detections_dir(self) -> Path:
        """Drawn detections of one fine-tuned detector on a few evaluation scans (the evaluate stage)."""
        return self.figures / "detections"

    @property
    def report_md(self) -> Path:
        return self.run / "report.md"

    @property
    def report_json(self) -> Path:
        return self.run / "report.json"

    @property
    def cache(self) -> Path:
        """Resized copies of a real set's train and val scans and backgrounds."""
        return self.run / "data" / "real"

    @property
    def chr_dir(self) -> Path:
        return self.run / "chr"

    def pretrain_dir(self, method: str) -> Path:
        return self.run / "pretrain" / method

    def finetune_dir(self, name: str) -> Path:
        return self.run / "finetune" / name

    def init_weights(self, init: str) -> str:
        """The weights file of a fine-tuning init ("random" for none)."""
        if init == "random":
            return "random"
        if init == "supervised":
            return str(self.cfg.finetune.supervised)
        if init == "chr":
            return str(self.chr_dir / BACKBONE_FILE)
        return str(self.pretrain_dir(init) / BACKBONE_FILE)

    def finetune_runs(self) -> list[FinetuneRun]:
        """The main runs (each init, followed by its runs with more seeds) at the longest budget, then the
        shorter budgets of the AP-versus-budget series (``finetune.budgets``), shortest first."""
        spec, seed = self.cfg.finetune, self.cfg.seed
        rows = [
            row
            for init in spec.inits
            for row in [(init, init, seed)] + [(f"{init}-seed{s}", init, s) for s in spec.seeds.get(init, [])]
        ]
        if not spec.budgets:
            return [FinetuneRun(name, name, init, s) for name, init, s in rows]
        longest, *shorter = sorted(spec.budgets, reverse=True)
        runs = [FinetuneRun(name, name, init, s, longest) for name, init, s in rows]
        return runs + [
            FinetuneRun(name + budget_suffix(b), name, init, s, b) for b in reversed(shorter) for name, init, s in rows
        ]

    def main_runs(self) -> list[FinetuneRun]:
        """The runs of Table 1: one per init and seed, at the longest budget."""
        return [r for r in self.finetune_runs() if r.name == r.row]

    def init_of(self) -> dict[str, str]:
        """The init of each row of the tables (``segloc-seed1`` -> ``segloc``)."""
        return {r.row: r.init for r in self.main_runs()}
