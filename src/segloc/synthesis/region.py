"""Authentic region of a background scan (SegLoc paper, section 3.2): the box around the bag.

The paper's recipe is RGB -> gray -> erosion (kernel 9) -> threshold at 50 -> bounding box of
the object pixels. X-ray scans are dark objects on a white belt, so the recipe only works on the
*darkness* image ``255 - gray``, where objects are bright:

* eroding the darkness image (a 9x9 minimum filter) keeps a pixel only if its whole 9x9
  neighbourhood is dark, so the isolated dark specks and streaks of the noisy white margin
  vanish while the bag (far larger than the kernel) stays, shrunk by 4 px per side. Eroding
  the plain gray image instead would do the opposite: every speck would grow to 9x9 and the box
  would swell to the whole image.
* object pixels are then those with eroded darkness > 50, i.e. gray < 205 everywhere in their
  neighbourhood: the bag, not the near-white (gray 230-255) margin.

This equals thresholding first and eroding the binary mask (erosion commutes with a threshold).
On the real SIXray negatives the boxes start below the blank strip above the bag and hold all of
its dense pixels, while eroding the plain gray image gives boxes touching the image's top rows;
very faint organics (gray above 205) fall outside, as the paper's threshold of 50 implies.
A scan with no object pixel has no region: :func:`authentic_region` returns None and callers
report the file, never guess a box.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from tqdm import tqdm

from segloc.data.images import IMAGE_SUFFIXES, read_rgb
from segloc.errors import DatasetError, log

Box = tuple[int, int, int, int]


def darkness_mask(image: np.ndarray, kernel: int = 9, threshold: int = 50) -> np.ndarray:
    """Object pixels (uint8 0/1) of an RGB or gray scan: eroded darkness above ``threshold``."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    darkness = cv2.subtract(np.full_like(gray, 255), gray)
    if kernel > 1:
        darkness = cv2.erode(darkness, np.ones((kernel, kernel), np.uint8))
    return (darkness > threshold).astype(np.uint8)


def mask_box(mask: np.ndarray) -> Box | None:
    """Tight box [x1, y1, x2, y2) (exclusive ends) of the nonzero pixels, None when there are none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def authentic_region(image: np.ndarray, kernel: int = 9, threshold: int = 50) -> Box | None:
    """Box [x1, y1, x2, y2) around the bag of a scan, or None when no pixel is dark enough."""
    return mask_box(darkness_mask(image, kernel, threshold))


def scale_region(region: Box, sx: float, sy: float) -> Box:
    """Map a region to a resized image, rounding inwards so it stays on the bag."""
    x1, y1, x2, y2 = region
    return (int(np.ceil(x1 * sx)), int(np.ceil(y1 * sy)),
            max(int(np.floor(x2 * sx)), int(np.ceil(x1 * sx)) + 1),
            max(int(np.floor(y2 * sy)), int(np.ceil(y1 * sy)) + 1))


REGIONS_VERSION = 1
REGIONS_FILE = "regions.json"
SIXRAY_IMAGE_DIR, SIXRAY_BENIGN = "JPEGImage", "N*"


@dataclass
class RegionTable:
    """Cached authentic regions of a folder, keyed by file path relative to the folder.

    Stored as ``regions.json`` (by default inside the folder it describes, where synthesis finds
    it): ``{"kernel", "threshold", "regions": {file: {"size": [w, h], "region": [x1, y1, x2, y2],
    "mtime": ns}}, "no_region": {file: {"size": [w, h], "mtime": ns}}, "unreadable": {file:
    reason}}``. Region ends are exclusive, in pixels of the original image; an entry whose file
    changed since (another modification time) is stale and computed again.
    """

    kernel: int = 9
    threshold: int = 50
    regions: dict[str, dict] = field(default_factory=dict)
    no_region: dict[str, dict] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.regions or name in self.no_region or name in self.unreadable

    def add(self, name: str, kind: str, value: object) -> None:
        """Record one computed file under ``kind``: "region", "no_region" or "unreadable" (replacing any
        earlier entry of the file)."""
        tables = {"region": self.regions, "no_region": self.no_region, "unreadable": self.unreadable}
        for table in tables.values():
            table.pop(name, None)
        tables[kind][name] = value

    def fresh(self, folder: Path, name: str) -> bool:
        """True when the entry of ``name`` describes the file as it is now (same modification time)."""
        entry = self.regions.get(name) or self.no_region.get(name)
        if entry is None or "mtime" not in entry:
            return name in self
        try:
            return entry["mtime"] == (folder / name).stat().st_mtime_ns
        except OSError:
            return False

    def region(self, name: str) -> tuple[Box, tuple[int, int]] | None:
        """(region, (w, h)) of a file with a region, None otherwise."""
        entry = self.regions.get(name)
        return None if entry is None else (tuple(entry["region"]), tuple(entry["size"]))

    def save(self, path: Path | str) -> None:
        """Write atomically (temp file + rename) so an interrupted run never leaves half a file."""
        path = Path(path)
        data = {"version": REGIONS_VERSION, "kernel": self.kernel, "threshold": self.threshold,
                "regions": self.regions, "no_region": self.no_region, "unreadable": self.unreadable}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=0, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path | str) -> RegionTable:
        """Read a regions.json written by :meth:`save`; a malformed file names itself."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(data["kernel"]), int(data["threshold"]), dict(data["regions"]),
                       dict(data.get("no_region", {})), dict(data.get("unreadable", {})))
        except FileNotFoundError as exc:
            raise DatasetError(f"{path}: regions file not found") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{path}: not a regions file ({exc})") from exc


def background_glob(folder: Path | str, pattern: str | None = None) -> str:
    """``pattern`` when given, else the benign scans of a folder whose layout says which they are: ``N*``
    in a SIXray ``JPEGImage/`` folder (its ``P*`` scans hold prohibited items), every image elsewhere."""
    if pattern is not None:
        return pattern
    return SIXRAY_BENIGN if Path(folder).name == SIXRAY_IMAGE_DIR else "*"


def default_regions_file(folder: Path | str) -> Path:
    """Where ``segloc regions`` writes a folder's regions and where synthesis looks for them."""
    return Path(folder) / REGIONS_FILE


def list_images(folder: Path | str, pattern: str = "*") -> list[str]:
    """Image files under ``folder`` (recursive) whose name matches ``pattern``, as sorted relative paths."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: image folder not found")
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.suffix.lower() in IMAGE_SUFFIXES and fnmatch(p.name, pattern) and p.is_file())


def _region_job(args: tuple[Path, str, int, int]) -> tuple[str, str, object]:
    folder, name, kernel, threshold = args
    try:
        image = read_rgb(folder / name)
    except DatasetError as exc:
        return name, "unreadable", str(exc)
    facts = {"size": [int(image.shape[1]), int(image.shape[0])], "mtime": (folder / name).stat().st_mtime_ns}
    region = authentic_region(image, kernel, threshold)
    if region is None:
        return name, "no_region", facts
    return name, "region", {**facts, "region": list(region)}


def compute_regions(
    folder: Path | str, out: Path | str | None = None, workers: int = 1, kernel: int = 9,
    threshold: int = 50, pattern: str | None = None, progress: bool = True,
) -> RegionTable:
    """Authentic region of every image of ``folder`` matching ``pattern`` (default: its benign scans,
    :func:`background_glob`), in parallel, cached in ``out``.

    An existing ``out`` computed with the same kernel and threshold is reused: only files it
    does not list, or that changed since, are computed. Files without a region or unreadable are
    listed under their own keys and counted in one warning each.
    """
    folder = Path(folder)
    pattern = background_glob(folder, pattern)
    table = RegionTable(kernel, threshold)
    if out is not None and Path(out).is_file():
        cached = RegionTable.load(out)
        if (cached.kernel, cached.threshold) == (kernel, threshold):
            table = cached
        else:
            log.warning("%s: computed with kernel %d / threshold %d, not %d / %d: recomputing all",
                        out, cached.kernel, cached.threshold, kernel, threshold)
    todo = [name for name in list_images(folder, pattern) if not table.fresh(folder, name)]
    jobs = [(folder, name, kernel, threshold) for name in todo]
    with tqdm(total=len(jobs), desc="regions", unit="img", disable=not progress or not jobs) as bar:
        results = _run_jobs(jobs, workers)
        for i, (name, kind, value) in enumerate(results, start=1):
            table.add(name, kind, value)
            bar.update()
            if out is not None and i % 5000 == 0:
                table.save(out)
    if out is not None:
        table.save(out)
    if table.no_region:
        log.warning("%s: %d image(s) have no authentic region (no pixel darker than the margin), "
                    "e.g. %s", folder, len(table.no_region), next(iter(sorted(table.no_region))))
    if table.unreadable:
        first = next(iter(sorted(table.unreadable)))
        log.warning("%s: %d image(s) could not be read, e.g. %s", folder, len(table.unreadable),
                    table.unreadable[first])
    return table


def _run_jobs(jobs: list, workers: int) -> Iterator:
    if workers <= 1 or len(jobs) < 2:
        yield from map(_region_job, jobs)
        return
    with mp.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap_unordered(_region_job, jobs, chunksize=4)
