"""The paper's protocol as one resumable pipeline:
data -> regions -> synthesis gallery -> pretraining (each method) -> [CHR] -> kNN probe of every
init's backbone -> fine-tuning (each init) -> evaluation on the test splits -> report.

The data is generated, real PIDray + SIXray roots (test splits easy / hard / hidden), or a real
box-only SIXray set (``data.real``: test splits val and, when present, test). Real scans are
resized once into ``<run>/data/real``; the real test split is read only by the evaluation.

Each stage is recorded in ``<run>/stages.json`` and skipped when done; pretraining and
fine-tuning runs resume from their own checkpoints when a stage was interrupted half-way.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from segloc.config import find_config, load_config, save_config
from segloc.data.coco import CocoDataset, load_coco
from segloc.data.sixray_det import sixray_det_split
from segloc.engine.runfiles import trained_seconds
from segloc.errors import ConfigError, SeglocError
from segloc.experiment.config import STAGES, ExperimentConfig
from segloc.experiment.layout import FinetuneRun, RunLayout
from segloc.experiment.stages import StageRecord

log = logging.getLogger("segloc")


class Experiment:
    """One experiment run folder and the stage functions that fill it."""

    def __init__(self, config: ExperimentConfig, run_dir: Path) -> None:
        self.cfg = config
        self.layout = RunLayout(run_dir, config)
        self.run = self.layout.run
        self.record = StageRecord(self.run)

    @property
    def pidray(self) -> Path:
        return self.cfg.data.pidray or self.run / "data" / "pidray"

    @property
    def sixray(self) -> Path:
        return self.cfg.data.sixray or self.run / "data" / "sixray"

    @property
    def real(self) -> Path | None:
        """The real box-only SIXray set (``data.real``), or None."""
        return self.cfg.data.real

    @property
    def backgrounds(self) -> Path:
        """The folder of benign background scans."""
        return self.layout.cache / "backgrounds" if self.real else self.sixray / "JPEGImage"

    @property
    def labelled(self) -> tuple[Path, Path]:
        """The labelled training set segments are cut from: (COCO json, image folder)."""
        if self.real:
            return sixray_det_split(self.layout.cache, "train")
        return self.pidray / "annotations" / "xray_train.json", self.pidray / "train"

    @property
    def test_split_names(self) -> tuple[str, ...]:
        """The splits detectors are evaluated on."""
        return ("val", "test") if self.real else ("easy", "hard", "hidden")

    def real_split(self, split: str) -> tuple[Path, Path]:
        """(COCO json, image folder) of a split of the real set as given (not resized)."""
        return sixray_det_split(self.real, split)

    def test_sets(self) -> dict[str, CocoDataset]:
        """The evaluation splits present: PIDray's test splits, or the real set's val and test."""
        if not self.real:
            from segloc.detection.evaluate import pidray_test_splits

            return pidray_test_splits(self.pidray)
        present = ["val"] + (["test"] if self.real_split("test")[0].is_file() else [])
        return {s: load_coco(*self.real_split(s)) for s in present}

    def data(self) -> None:
        """Generate the built-in data, or resize the real set's scans once (PIDray / SIXray roots are used as is)."""
        with self.record.stage("data") as out:
            if self.real:
                out.update(self._cache_real())
                return
            gen = self.cfg.data.generate
            if gen is not None and not (self.run / "data" / "generator_meta.json").is_file():
                from segloc.generator import generate

                summary = generate(
                    self.run / "data", preset=gen.preset, seed=gen.seed, workers=gen.workers, overwrite=True
                )
                out["generated"] = {
                    "preset": gen.preset,
                    "seed": gen.seed,
                    "pidray": summary["pidray"],
                    "sixray": {k: summary["sixray"][k] for k in ("positives", "negatives")},
                }
            out["pidray"], out["sixray"] = self.pidray, self.sixray

    def _cache_real(self) -> dict:
        """Resized copies of the real train and val splits and the backgrounds (never of the test split)."""
        from segloc.data.resize import resize_coco, resize_folder

        side, out = self.cfg.data.cache_side, {}
        for split in ("train", "val"):
            json_path, images = self.real_split(split)
            resize_coco(json_path, images, *sixray_det_split(self.layout.cache, split), side)
            out[split] = len(load_coco(*self.real_split(split), check_images="none").images)
        out["backgrounds"] = resize_folder(
            self.real / "backgrounds", self.backgrounds, side, self.cfg.data.background_glob
        )
        out["cache"], out["cache_side"] = self.layout.cache, side
        return out

    def regions(self) -> None:
        """Authentic regions of every background scan, cached for synthesis."""
        from segloc.synthesis.region import compute_regions

        with self.record.stage("regions") as out:
            table = compute_regions(
                self.backgrounds, self.layout.regions_file, workers=2, pattern=self.cfg.data.background_glob
            )
            out["regions"] = self.layout.regions_file
            out["backgrounds"] = len(table.regions)

    def synthesis(self) -> None:
        """A gallery of synthesised pairs for each pair method (pretraining synthesises on the fly)."""
        from segloc.synthesis.builder import PAIR_METHODS, build_sampler
        from segloc.synthesis.preview import draw_gallery

        with self.record.stage("synthesis") as out:
            figures = self.layout.figures
            figures.mkdir(parents=True, exist_ok=True)
            train_json, train_images = self.labelled
            for method in PAIR_METHODS:
                sampler, manifest = build_sampler(
                    method,
                    self.backgrounds,
                    labelled=train_json,
                    images=train_images,
                    seed=self.cfg.seed,
                    regions=self.layout.regions_file,
                    background_glob=self.cfg.data.background_glob,
                    refine_boxes=self.real is not None,
                )
                pairs = [sampler(i) for i in range(self.cfg.report.gallery_pairs)]
                out[f"gallery_{method}"] = draw_gallery(
                    pairs, manifest.get("categories", {}), figures / f"pairs_{method}.png"
                )
            if self.real:
                out["segments"] = self._draw_segments(figures / "segments.png")

    def _draw_segments(self, path: Path) -> Path:
        """A sheet of box-only train segments refined to silhouettes, a few of each class."""
        from segloc.synthesis.preview import draw_segments
        from segloc.synthesis.segments import SegmentBank

        bank = SegmentBank.from_coco(*self.labelled, refine_boxes=True)
        per_class = max(1, 3 * self.cfg.report.gallery_pairs // max(1, len(bank.by_class)))
        picked = [bank[i] for members in bank.by_class.values() for i in members[:per_class]]
        return draw_segments(picked, bank.categories, path)

    def _pretrain_config(self, method: str):
        from segloc.pretrain.config import PretrainConfig

        spec = self.cfg.pretrain
        labelled, images = self.labelled
        source = (
            ["data.pidray=null", f"data.labelled={labelled}", f"data.images={images}", "data.refine_boxes=true"]
            if self.real
            else [f"data.pidray={self.pidray}", "data.labelled=null", "data.images=null"]
        )
        data = [
            *source,
            f"data.backgrounds={self.backgrounds}",
            f"data.background_glob={self.cfg.data.background_glob}",
            f"data.regions={self.layout.regions_file}",
            "data.source=synthesis",
            f"train.seed={self.cfg.seed}",
        ]
        start = (
            [f"backbone.weights={self.layout.init_weights(spec.start_from[method])}"]
            if method in spec.start_from
            else []
        )
        return load_config(
            find_config(spec.configs[method], "pretrain"), PretrainConfig, [*data, *start, *spec.overrides_for(method)]
        )

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
            run_dir = self.layout.pretrain_dir(method)
            with self.record.stage(key, carried=trained_seconds(run_dir)) as out:
                result = pretrain(config, run_dir, resume=True)
                if result.checkpoint is None:
                    raise SeglocError(f"{run_dir}: pretraining wrote no checkpoint")
                out["checkpoint"] = result.checkpoint
                out["backbone"] = export_backbone(result.checkpoint, run_dir / "backbone.safetensors")
        with self.record.stage("pretrain") as out:
            out["methods"] = self.cfg.pretrain.methods

    def _finetune_config(self, run: FinetuneRun | None = None):
        """The fine-tuning config of one run (default: random init, the experiment's seed), its schedule
        stretched or shrunk to the run's budget."""
        from segloc.detection.config import FinetuneConfig

        spec = self.cfg.finetune
        if self.real:
            labelled, images = self.labelled
            data = ["data.root=null", f"data.train.labels={labelled}", f"data.train.images={images}"]
            for split in self.test_sets():
                json_path, folder = self.real_split(split)
                data += [f"data.test.{split}.labels={json_path}", f"data.test.{split}.images={folder}"]
        else:
            data = [f"data.root={self.pidray}"]
        run = run or FinetuneRun("random", "random", "random", self.cfg.seed)
        overrides = [
            f"init={self.layout.init_weights(run.init)}",
            f"init_name={run.row}",
            *data,
            f"train.seed={run.seed}",
            *spec.overrides,
            *(spec.pretrained_overrides if run.init != "random" else []),
        ]
        config = load_config(find_config(spec.config, "finetune"), FinetuneConfig, overrides)
        if run.epochs is None:
            return config
        scale = run.epochs / config.train.epochs
        milestones = ", ".join(f"{m * scale:g}" for m in config.optim.milestones)
        return load_config(
            find_config(spec.config, "finetune"),
            FinetuneConfig,
            [*overrides, f"train.epochs={run.epochs}", f"optim.milestones=[{milestones}]"],
        )

    def _check_backbone(self, method: str, pretrain_config) -> None:
        """The pretrained network must be the detector's backbone and neck, key for key."""
        mismatched = pretrain_config.backbone.differences(self._finetune_config().model)
        if mismatched:
            raise ConfigError(
                f"pretraining config of {method!r} does not match the detector (pretrain vs finetune): "
                + "; ".join(mismatched)
            )

    def chr(self) -> None:
        """Train CHR on SIXray and export its trunk as a domain-supervised init (when enabled)."""
        if not self.cfg.chr.enabled:
            return
        from segloc.classification.config import ChrConfig
        from segloc.classification.export import export_backbone
        from segloc.classification.train import train

        spec = self.cfg.chr
        with self.record.stage("chr", carried=trained_seconds(self.layout.chr_dir)) as out:
            root, subset = (self._chr_view(), "real") if self.real else (self.sixray, spec.subset)
            overrides = [f"data.root={root}", f"data.subset={subset}", f"train.seed={self.cfg.seed}", *spec.overrides]
            config = load_config(find_config(spec.config or "configs/chr/cpu-demo.yaml", "chr"), ChrConfig, overrides)
            run_dir = train(config, self.layout.chr_dir, resume=True)
            out["backbone"] = export_backbone(run_dir, self.layout.init_weights("chr"))

    def _chr_view(self) -> Path:
        """The real set in SIXray's layout for CHR: train positives + 4/5 of the backgrounds to train on,
        val positives + the other backgrounds to test on (hard links to the resized copies)."""
        from segloc.data.sixray import SIXRAY_CLASSES

        view = self.run / "data" / "chr"
        images = view / "JPEGImage"
        images.mkdir(parents=True, exist_ok=True)
        rows: dict[str, list[str]] = {"train": [], "test": []}
        for split, csv_split in (("train", "train"), ("val", "test")):
            coco = load_coco(*sixray_det_split(self.layout.cache, split))
            for record in coco.images:
                name = f"{split}-{Path(record.path).stem}"
                _link(record.path, images / f"{name}{record.path.suffix}")
                present = {coco.categories[i.category_id] for i in record.instances}
                rows[csv_split].append(",".join([name, *("1" if c in present else "-1" for c in SIXRAY_CLASSES)]))
        backgrounds = sorted(p for p in self.backgrounds.glob(self.cfg.data.background_glob) if p.is_file())
        for k, path in enumerate(backgrounds):
            _link(path, images / path.name)
            rows["test" if k % 5 == 4 else "train"].append(",".join([path.stem, *("-1" for _ in SIXRAY_CLASSES)]))
        (view / "ImageSet" / "real").mkdir(parents=True, exist_ok=True)
        for split, lines in rows.items():
            header = ",".join(["name", *SIXRAY_CLASSES])
            (view / "ImageSet" / "real" / f"{split}.csv").write_text("\n".join([header, *lines]) + "\n")
        return view

    def probe(self) -> None:
        """kNN probe of every init's backbone (random included): what pretraining learnt, before fine-tuning."""
        spec = self.cfg.probe
        if not spec.enabled:
            return
        import torch

        from segloc.detection.builders import build_detector_backbone
        from segloc.detection.init import initialize_backbone
        from segloc.evaluation.probe import knn_probe, root_probe_sets

        with self.record.stage("probe") as out:
            root = self.layout.cache if self.real else self.pidray
            splits = ["val"] if self.real else None  # never the real test split
            train, tests = root_probe_sets(root, splits, spec.width, spec.max_images, spec.holdout_every)
            device = "cuda" if torch.cuda.is_available() else "cpu"
            model = self._finetune_config().model
            results = {}
            for init in self.cfg.finetune.inits:
                torch.manual_seed(self.cfg.seed)
                backbone = build_detector_backbone(model)
                initialize_backbone(backbone, self.layout.init_weights(init), name=init)
                results[init] = knn_probe(backbone, train, tests, spec.k, device)
            path = self.layout.probe_file
            path.write_text(json.dumps(results, indent=1), encoding="utf-8")
            out["probe"] = path

    def finetune(self) -> None:
        """Fine-tune the detector from every init with the same recipe, at each budget of the series
        (``finetune.parallel`` runs at once)."""
        from segloc.experiment.parallel import run_finetunes

        runs = self.layout.finetune_runs()
        n_train = len(load_coco(*self.labelled, check_images="none").images)
        configs = {run.name: self._finetune_config(run) for run in runs if not self.record.done(f"finetune/{run.name}")}
        jobs = [(name, config, self.layout.finetune_dir(name)) for name, config in configs.items()]
        for name, folder, (seconds, carried) in run_finetunes(jobs, self.cfg.finetune.parallel):
            config = configs[name]
            seen = round(config.train.epochs * min(n_train, config.data.max_train_images or n_train))
            self.record.mark(f"finetune/{name}", seconds, {"run": folder, "images_seen": seen}, carried)
        with self.record.stage("finetune") as out:
            out["runs"] = [run.name for run in runs]

    def evaluate(self) -> None:
        """COCO metrics of every fine-tuned detector on the test splits (if not written yet), and the
        detections of one of them drawn on a few evaluation scans."""
        import torch

        from segloc.detection.evaluate import EVAL_DIR, METRICS_FILE, evaluate_detector
        from segloc.detection.inference import load_detector

        with self.record.stage("evaluate") as out:
            device = "cuda" if torch.cuda.is_available() else "cpu"
            for run in self.layout.finetune_runs():
                folder = self.layout.finetune_dir(run.name)
                metrics = folder / EVAL_DIR / METRICS_FILE
                if not metrics.is_file():
                    evaluate_detector(load_detector(folder, device), self.test_sets(), folder / EVAL_DIR)
                out[run.name] = metrics
            out["detections"] = self._draw_detections()

    def _draw_detections(self) -> list[str]:
        """Detections of the SegLoc-initialised detector (else the first init) on a few test (real: val) scans."""
        from segloc.detection.inference import detect_files

        n = self.cfg.report.detection_images
        if n == 0:
            return []
        inits = self.cfg.finetune.inits
        init = "segloc" if "segloc" in inits else inits[0]
        sets = self.test_sets()
        if self.real:
            sets = {"val": sets["val"]}
        images = []
        for dataset in sets.values():
            images += [r.path for r in dataset.images[: max(1, n // len(sets))]]
        out_dir = self.layout.detections_dir
        detect_files(
            self.layout.finetune_dir(init),
            images[:n],
            self.layout.figures / "detections.json",
            draw_dir=out_dir,
            score_thr=self.cfg.report.score_thr,
        )
        return sorted(str(p.relative_to(self.run)) for p in out_dir.glob("*.png"))

    def report(self) -> None:
        """Write report.md and report.json from the files the other stages wrote."""
        from segloc.experiment.report import write_experiment_report

        with self.record.stage("report") as out:
            out["report"] = write_experiment_report(self.layout, self.record.data)


def run_experiment(config: ExperimentConfig, run_dir: Path | str | None = None, from_stage: str | None = None) -> Path:
    """Run every stage not yet done (or everything from ``from_stage`` on); return the run folder."""
    if from_stage is not None and from_stage not in STAGES:
        raise ConfigError(f"unknown stage {from_stage!r}; stages: {', '.join(STAGES)}")
    run = Path(run_dir or config.out or Path("runs") / config.name)
    run.mkdir(parents=True, exist_ok=True)
    saved = RunLayout(run, config).config_file
    if saved.is_file() and from_stage is None:
        previous = load_config(saved, ExperimentConfig)
        # finetune.parallel only says how the runs share the machine: a resume may change it
        how_many_at_once = {"finetune": previous.finetune.model_copy(update={"parallel": config.finetune.parallel})}
        if previous.model_copy(update=how_many_at_once) != config:
            raise SeglocError(
                f"{run}: holds an experiment with a different config ({saved}); "
                "use another --out, or --from a stage to redo it with this config"
            )
    save_config(config, saved)
    exp = Experiment(config, run)
    if from_stage is not None:
        later = list(STAGES[STAGES.index(from_stage) :])
        exp.record.forget(later)
        _clear_outputs(exp, later)
    for name in STAGES:
        if exp.record.done(name):
            log.info("stage %s: done, skipped", name)
            continue
        log.info("stage %s", name)
        getattr(exp, name)()
    return run


def _link(source: Path, target: Path) -> None:
    """Hard-link ``source`` at ``target`` (a copy across file systems); an existing target is kept."""
    import shutil

    if target.exists():
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _clear_outputs(exp: Experiment, stages: list[str]) -> None:
    """Remove the run folders of stages to redo (asked for explicitly with --from)."""
    import shutil

    folders = {
        "pretrain": exp.run / "pretrain",
        "chr": exp.layout.chr_dir,
        "finetune": exp.run / "finetune",
        "evaluate": exp.layout.detections_dir,
    }
    for stage in stages:
        if stage in folders and folders[stage].exists():
            shutil.rmtree(folders[stage])
