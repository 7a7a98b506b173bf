"""``generate()``: plan, render (optionally on several processes), write both layouts and the meta file."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from functools import partial
from pathlib import Path

import cv2
from tqdm import tqdm

from segloc.data.sixray import SIXRAY_ALL_CLASSES
from segloc.errors import ConfigError, SeglocError
from segloc.generator.plan import Task, pidray_tasks, sixray_tasks
from segloc.generator.presets import get_preset
from segloc.generator.preview import write_preview
from segloc.generator.scan import render_scan
from segloc.generator.shapes import PIDRAY_CLASSES
from segloc.generator.writer import PIDRAY_ANNOTATION_FILES, Record, write_image, write_meta, write_pidray, write_sixray

# Files the generator owns under the output root; --overwrite removes only these.
OWNED_PATTERNS = (
    "pidray/annotations/xray_*.json",
    "pidray/*/xray_*.png",
    "sixray/JPEGImage/P*.jpg",
    "sixray/JPEGImage/N*.jpg",
    "sixray/Annotation/P*.xml",
    "sixray/ImageSet/*/train.csv",
    "sixray/ImageSet/*/test.csv",
    "generator_meta.json",
)


class OutputExistsError(SeglocError, FileExistsError):
    """The output folder already holds data and overwriting was not asked for."""


def prepare_output(out: Path, overwrite: bool) -> None:
    """Refuse a non-empty ``out/pidray`` or ``out/sixray`` unless overwrite; then clear only generator files."""
    busy = [d for d in (out / "pidray", out / "sixray") if d.is_dir() and any(d.iterdir())]
    if busy and not overwrite:
        names = " and ".join(str(d) for d in busy)
        raise OutputExistsError(
            f"{names} already exist and are not empty; pass overwrite=True (--overwrite) "
            "to replace the generated files there (other files are left alone)"
        )
    for pattern in OWNED_PATTERNS:
        for path in out.glob(pattern):
            if path.is_file():
                path.unlink()


def render_task(task: Task, out: Path) -> Record:
    """Render one scan, write its image under `out`, and return what was written."""
    scan = render_scan(task.plan, task.rng())
    write_image(scan.image, out / task.path)
    h, w = scan.image.shape[:2]
    return Record(task.path, w, h, scan.objects, scan.bag_box)


def _init_worker() -> None:
    cv2.setNumThreads(1)


def run_tasks(tasks: list[Task], out: Path, workers: int) -> list[Record]:
    """Records in task order; with workers > 1 scans render on a process pool (same output either way)."""
    bar = partial(tqdm, total=len(tasks), desc="generating scans", unit="scan", dynamic_ncols=True)
    job = partial(render_task, out=out)
    if workers == 1:
        return [job(t) for t in bar(tasks)]
    # spawn, not fork: a forked child inherits OpenCV's thread pool in a broken state and can hang.
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
        return list(bar(pool.imap(job, tasks, chunksize=4)))


def _class_counts(records: list[Record], classes: tuple[str, ...]) -> dict[str, int]:
    counts = Counter(obj.class_name for rec in records for obj in rec.objects)
    return {c: counts.get(c, 0) for c in classes}


def generate(
    out: Path,
    preset: str = "tiny",
    seed: int = 0,
    preview: Path | None = None,
    workers: int = 1,
    overwrite: bool = False,
) -> dict:
    """Generate PIDray- and SIXray-layout X-ray scans under ``out/pidray`` and ``out/sixray``.

    Deterministic: the same (preset, seed) gives identical files for any number of workers. Returns a
    summary: images and instances per split and class, and the SIXray subset sizes.
    """
    spec = get_preset(preset)
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    if seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed}")
    out = Path(out)
    prepare_output(out, overwrite)
    for split in PIDRAY_ANNOTATION_FILES:
        (out / "pidray" / split).mkdir(parents=True, exist_ok=True)
    tasks = pidray_tasks(spec, seed) + sixray_tasks(spec, seed)
    records = run_tasks(tasks, out, workers)
    groups: dict[str, list[Record]] = {}
    for task, rec in zip(tasks, records):
        groups.setdefault(task.split, []).append(rec)
    write_pidray(out / "pidray", {s: groups.get(s, []) for s in PIDRAY_ANNOTATION_FILES})
    sixray_records = groups.get("positive", []) + groups.get("negative", [])
    subsets = write_sixray(out / "sixray", sixray_records, seed, spec.sixray1000_per_class)
    counts = {
        "pidray": {
            s: {
                "images": len(groups.get(s, [])),
                "instances": sum(len(r.objects) for r in groups.get(s, [])),
                "per_class": _class_counts(groups.get(s, []), PIDRAY_CLASSES),
            }
            for s in PIDRAY_ANNOTATION_FILES
        },
        "sixray": {
            "positives": len(groups.get("positive", [])),
            "negatives": len(groups.get("negative", [])),
            "instances": sum(len(r.objects) for r in sixray_records),
            "per_class": _class_counts(sixray_records, SIXRAY_ALL_CLASSES),
            "subsets": {name: {"train": len(tr), "test": len(te)} for name, (tr, te) in subsets.items()},
        },
    }
    write_meta(out, preset, seed, counts, records)
    if preview is not None:
        write_preview(out, groups, Path(preview))
    return {"out": str(out), "preset": preset, "seed": seed, **counts}
