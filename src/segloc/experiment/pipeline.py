"""The paper's protocol as one resumable pipeline:
data -> regions -> synthesis gallery -> pretraining (each method) -> [CHR] -> kNN probe of every
init's backbone -> fine-tuning (each init) -> evaluation on easy / hard / hidden -> report.

Each stage is recorded in ``<run>/stages.json`` and skipped when done; pretraining and
fine-tuning runs resume from their own checkpoints when a stage was interrupted half-way.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from segloc.config import find_config, load_config, save_config
from segloc.errors import ConfigError, SeglocError
from segloc.experiment.config import STAGES, ExperimentConfig
from segloc.experiment.stages import StageRecord

log = logging.getLogger("segloc")


class Experiment:
    """One experiment run folder and the stage functions that fill it."""

    def __init__(self, config: ExperimentConfig, run_dir: Path) -> None:
        self.cfg = config
        self.run = Path(run_dir)
        self.record = StageRecord(self.run)

    @property
    def pidray(self) -> Path:
        return self.cfg.data.pidray or self.run / "data" / "pidray"

    @property
    def sixray(self) -> Path:
        return self.cfg.data.sixray or self.run / "data" / "sixray"

    @property
    def regions_file(self) -> Path:
        return self.run / "regions.json"

    def pretrain_dir(self, method: str) -> Path:
        return self.run / "pretrain" / method

    def finetune_dir(self, init: str) -> Path:
        return self.run / "finetune" / init

    def data(self) -> None:
        """Generate the built-in data into the run folder (real roots are used as they are)."""
        with self.record.stage("data") as out:
            gen = self.cfg.data.generate
            if gen is not None and not (self.run / "data" / "generator_meta.json").is_file():
                from segloc.generator import generate

                summary = generate(self.run / "data", preset=gen.preset, seed=gen.seed, workers=gen.workers,
                                   overwrite=True)
                out["generated"] = {"preset": gen.preset, "seed": gen.seed, "pidray": summary["pidray"],
                                    "sixray": {k: summary["sixray"][k] for k in ("positives", "negatives")}}
            out["pidray"], out["sixray"] = self.pidray, self.sixray

    def regions(self) -> None:
        """Authentic regions of every background scan, cached for synthesis."""
        from segloc.synthesis.region import compute_regions

        with self.record.stage("regions") as out:
            table = compute_regions(self.sixray / "JPEGImage", self.regions_file, workers=2,
                                    pattern=self.cfg.data.background_glob)
            out["regions"] = self.regions_file
            out["backgrounds"] = len(table.regions)

    def synthesis(self) -> None:
        """A gallery of synthesised pairs for each pair method (pretraining synthesises on the fly)."""
        from segloc.synthesis.builder import build_sampler
        from segloc.synthesis.preview import draw_gallery

        with self.record.stage("synthesis") as out:
            figures = self.run / "figures"
            figures.mkdir(parents=True, exist_ok=True)
            train_json = self.pidray / "annotations" / "xray_train.json"
            for method in ("segloc", "insloc"):
                sampler, manifest = build_sampler(method, self.sixray / "JPEGImage", labelled=train_json,
                                                  images=self.pidray / "train", seed=self.cfg.seed,
                                                  regions=self.regions_file,
                                                  background_glob=self.cfg.data.background_glob)
                pairs = [sampler(i) for i in range(self.cfg.report.gallery_pairs)]
                out[f"gallery_{method}"] = draw_gallery(pairs, manifest.get("categories", {}),
                                                        figures / f"pairs_{method}.png")

    def _pretrain_config(self, method: str):
        from segloc.pretrain.config import PretrainConfig

        spec = self.cfg.pretrain
        data = [f"data.pidray={self.pidray}", f"data.backgrounds={self.sixray / 'JPEGImage'}",
                f"data.background_glob={self.cfg.data.background_glob}", f"data.regions={self.regions_file}",
                "data.labelled=null", "data.images=null", "data.source=synthesis", f"train.seed={self.cfg.seed}"]
        return load_config(find_config(spec.configs[method], "pretrain"), PretrainConfig, [*data, *spec.overrides])

    def pretrain(self) -> None:
        """Pretrain each method and export its backbone for the detector."""
        from segloc.pretrain.export import export_backbone
        from segloc.pretrain.trainer import pretrain

        for method in self.cfg.pretrain.methods:
            key = f"pretrain/{method}"
            if self.record.done(key):
                continue
            config = self._pretrain_config(method)
            self._check_backbone(method, config)
            run_dir = self.pretrain_dir(method)
            with self.record.stage(key) as out:
                result = pretrain(config, run_dir, resume=True)
                if result.checkpoint is None:
                    raise SeglocError(f"{run_dir}: pretraining wrote no checkpoint")
                out["checkpoint"] = result.checkpoint
                out["backbone"] = export_backbone(result.checkpoint, run_dir / "backbone.safetensors")
        with self.record.stage("pretrain") as out:
            out["methods"] = self.cfg.pretrain.methods

    def _finetune_config(self, init: str):
        from segloc.detection.config import FinetuneConfig

        spec = self.cfg.finetune
        overrides = [f"init={self.init_weights(init)}", f"init_name={init}", f"data.root={self.pidray}",
                     f"train.seed={self.cfg.seed}", *spec.overrides]
        return load_config(find_config(spec.config, "finetune"), FinetuneConfig, overrides)

    def _check_backbone(self, method: str, pretrain_config) -> None:
        """The pretrained network must be the detector's backbone and neck, key for key."""
        model = self._finetune_config("random").model
        theirs = pretrain_config.backbone
        mismatched = [f"{name}: pretrain {getattr(theirs, name)!r} vs finetune {getattr(model, name)!r}"
                      for name in ("arch", "attention", "fpn_norm") if getattr(theirs, name) != getattr(model, name)]
        if mismatched:
            raise ConfigError(f"pretraining config of {method!r} does not match the detector: " + "; ".join(mismatched))

    def chr(self) -> None:
        """Train CHR on SIXray and export its trunk as a domain-supervised init (when enabled)."""
        if not self.cfg.chr.enabled:
            return
        from segloc.classification.config import ChrConfig
        from segloc.classification.export import export_backbone
        from segloc.classification.train import train

        spec = self.cfg.chr
        with self.record.stage("chr") as out:
            overrides = [f"data.root={self.sixray}", f"data.subset={spec.subset}", f"run.seed={self.cfg.seed}",
                         *spec.overrides]
            config = load_config(find_config(spec.config or "configs/chr/cpu-demo.yaml", "chr"), ChrConfig, overrides)
            run_dir = train(config, self.run / "chr", resume=True)
            out["backbone"] = export_backbone(run_dir, self.run / "chr" / "backbone.safetensors")

    def init_weights(self, init: str) -> str:
        """The weights file of a fine-tuning init ("random" for none)."""
        return {"random": "random", "supervised": str(self.cfg.finetune.supervised),
                "chr": str(self.run / "chr" / "backbone.safetensors")}.get(
            init, str(self.pretrain_dir(init) / "backbone.safetensors"))

    def probe(self) -> None:
        """kNN probe of every init's backbone (random included): what pretraining learnt, before fine-tuning."""
        spec = self.cfg.probe
        if not spec.enabled:
            return
        import torch

        from segloc.data.pidray import load_pidray
        from segloc.detection.builders import build_detector_backbone
        from segloc.detection.init import initialize_backbone
        from segloc.evaluation.probe import knn_probe, probe_sets

        with self.record.stage("probe") as out:
            coco = load_pidray(self.pidray)
            train, tests = probe_sets(coco, ["easy", "hard", "hidden"], spec.width, spec.max_images,
                                      spec.holdout_every)
            device = "cuda" if torch.cuda.is_available() else "cpu"
            model = self._finetune_config("random").model
            results = {}
            for init in self.cfg.finetune.inits:
                torch.manual_seed(self.cfg.seed)
                backbone = build_detector_backbone(model)
                initialize_backbone(backbone, self.init_weights(init), name=init)
                results[init] = knn_probe(backbone, train, tests, spec.k, device)
            path = self.run / "probe.json"
            path.write_text(json.dumps(results, indent=1), encoding="utf-8")
            out["probe"] = path

    def finetune(self) -> None:
        """Fine-tune the detector from every init with the same recipe and budget."""
        from segloc.detection.train import finetune

        for init in self.cfg.finetune.inits:
            key = f"finetune/{init}"
            if self.record.done(key):
                continue
            with self.record.stage(key) as out:
                out["run"] = finetune(self._finetune_config(init), self.finetune_dir(init), resume=True)
        with self.record.stage("finetune") as out:
            out["inits"] = self.cfg.finetune.inits

    def evaluate(self) -> None:
        """COCO metrics of every fine-tuned detector on easy / hard / hidden (if not written yet)."""
        from segloc.detection.evaluate import evaluate

        with self.record.stage("evaluate") as out:
            for init in self.cfg.finetune.inits:
                metrics = self.finetune_dir(init) / "eval" / "metrics.json"
                if not metrics.is_file():
                    evaluate(self.finetune_dir(init), data_root=self.pidray, split="all")
                out[init] = metrics

    def report(self) -> None:
        from segloc.experiment.report import write_experiment_report

        with self.record.stage("report") as out:
            out["report"] = write_experiment_report(self)


def run_experiment(config: ExperimentConfig, run_dir: Path | str | None = None, from_stage: str | None = None) -> Path:
    """Run every stage not yet done (or everything from ``from_stage`` on); return the run folder."""
    run = Path(run_dir or config.out or Path("runs") / config.name)
    run.mkdir(parents=True, exist_ok=True)
    saved = run / "experiment.yaml"
    if saved.is_file() and from_stage is None:
        previous = load_config(saved, ExperimentConfig)
        if previous != config:
            raise SeglocError(f"{run}: holds an experiment with a different config ({saved}); "
                              "use another --out, or --from a stage to redo it with this config")
    save_config(config, saved)
    exp = Experiment(config, run)
    if from_stage is not None:
        if from_stage not in STAGES:
            raise ConfigError(f"unknown stage {from_stage!r}; stages: {', '.join(STAGES)}")
        later = list(STAGES[STAGES.index(from_stage):])
        exp.record.forget(later)
        _clear_outputs(exp, later)
    for name in STAGES:
        if exp.record.done(name):
            log.info("stage %s: done, skipped", name)
            continue
        log.info("stage %s", name)
        getattr(exp, name)()
    return run


def _clear_outputs(exp: Experiment, stages: list[str]) -> None:
    """Remove the run folders of stages to redo (asked for explicitly with --from)."""
    import shutil

    folders = {"pretrain": exp.run / "pretrain", "chr": exp.run / "chr", "finetune": exp.run / "finetune"}
    for stage in stages:
        if stage in folders and folders[stage].exists():
            shutil.rmtree(folders[stage])
