"""Build a pair sampler from folders and files, and the offline ``synthesize`` run behind the CLI."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Literal

from segloc.data.coco import run_image_check
from segloc.data.formats import load_annotations
from segloc.errors import ConfigError
from segloc.synthesis.backgrounds import BackgroundBank
from segloc.synthesis.insloc import InsLocConfig, InsLocPairSampler
from segloc.synthesis.offline import write_shards
from segloc.synthesis.pairs import SegLocConfig, SegLocPairSampler
from segloc.synthesis.preview import draw_gallery
from segloc.errors import log
from segloc.synthesis.region import RegionTable, default_regions_file, list_images
from segloc.synthesis.segments import SegmentBank

Method = Literal["segloc", "insloc"]


def build_sampler(method: Method, backgrounds: Path | str, labelled: Path | str | None = None,
                  images: Path | str | None = None, seed: int = 0, regions: Path | str | None = None,
                  background_glob: str | None = None, config: SegLocConfig | InsLocConfig | None = None,
                  min_size: int = 8, refine_boxes: bool = False,
                  skip_bad: bool = False) -> tuple[SegLocPairSampler | InsLocPairSampler, dict]:
    """A sampler and the manifest that makes its pairs reproducible (sources, sizes, config).

    SegLoc needs ``labelled`` (COCO json, VOC or YOLO folder) and ``images`` (its image folder).
    InsLoc takes its foregrounds from the labelled set's images when ``labelled`` is given, else
    from every image under ``images``. Backgrounds default to the folder's benign scans; without
    ``regions``, the folder's own ``regions.json`` (written by ``segloc regions``) is used if present.
    ``skip_bad``: broken records and unreadable images of ``labelled`` are left out with one warning
    (its images are decoded up front).
    """
    if regions is None and default_regions_file(backgrounds).is_file():
        regions = default_regions_file(backgrounds)
        log.info("authentic regions from %s", regions)
    table = RegionTable.load(regions) if regions is not None else None
    bank = BackgroundBank(backgrounds, table, background_glob)
    manifest = {"method": method, "seed": seed, "backgrounds": str(Path(backgrounds).resolve()),
                "background_glob": bank.pattern, "n_backgrounds": len(bank)}
    if method == "segloc":
        if labelled is None or images is None:
            raise ConfigError("SegLoc synthesis needs --labelled (COCO json) and --images (its folder)")
        segments = SegmentBank.from_coco(labelled, images, skip_bad=skip_bad, min_size=min_size,
                                         refine_boxes=refine_boxes)
        config = config or SegLocConfig()
        sampler = SegLocPairSampler(segments, bank, config, seed)
        manifest.update(labelled=str(Path(labelled).resolve()), n_segments=len(segments),
                        min_size=min_size, refine_boxes=refine_boxes, categories=segments.categories)
    elif method == "insloc":
        if labelled is not None:
            coco = load_annotations(labelled, images, skip_bad=skip_bad, check_images=run_image_check(skip_bad))
            foregrounds = [r.path for r in coco.images]
        elif images is not None:
            foregrounds = [Path(images) / name for name in list_images(images)]
        else:
            raise ConfigError("InsLoc synthesis needs --images (foreground folder) or --labelled")
        config = config or InsLocConfig()
        sampler = InsLocPairSampler(foregrounds, bank, config, seed)
        manifest.update(foregrounds=str(Path(labelled or images).resolve()), n_foregrounds=len(foregrounds),
                        categories={})
    else:
        raise ConfigError(f"unknown synthesis method {method!r} (use 'segloc' or 'insloc')")
    manifest["config"] = asdict(config)
    return sampler, manifest


def synthesize(method: Method, backgrounds: Path | str, out: Path | str, pairs: int,
               labelled: Path | str | None = None, images: Path | str | None = None, workers: int = 1,
               shard_size: int = 1000, seed: int = 0, regions: Path | str | None = None,
               preview: Path | str | None = None, preview_pairs: int = 8, background_glob: str | None = None,
               config: SegLocConfig | InsLocConfig | None = None, jpeg_quality: int | None = None,
               progress: bool = True, skip_bad: bool = False) -> dict:
    """Write ``pairs`` synthesised pairs as resumable shards under ``out`` (and a preview gallery)."""
    sampler, manifest = build_sampler(method, backgrounds, labelled, images, seed, regions,
                                      background_glob, config, skip_bad=skip_bad)
    summary = write_shards(sampler, pairs, out, manifest, shard_size, workers, jpeg_quality, progress)
    if preview is not None:
        shown = [sampler(i) for i in range(min(preview_pairs, pairs))]
        summary["preview"] = str(draw_gallery(shown, manifest["categories"], preview))
    return summary
