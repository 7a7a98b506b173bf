"""Background bank: the benign scans of a folder and their authentic regions.

Regions come from a ``regions.json`` (:func:`segloc.synthesis.region.compute_regions`) when one
is given, else they are computed from the full-resolution image the first time it is read;
either way the same function gives the same box, so pairs do not depend on the cache. Entries of
files changed since the cache was written are ignored. Without a pattern, the bank holds the
folder's benign scans (:func:`segloc.synthesis.region.background_glob`).
Files the table marks as region-less or unreadable are left out up front; files found bad while
sampling are remembered, skipped, and named once in a warning.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from segloc.data.images import read_rgb
from segloc.errors import DatasetError, log
from segloc.synthesis.region import Box, RegionTable, authentic_region, background_glob, list_images


class BackgroundBank:
    """Background image files (relative to ``folder``) with lazily known authentic regions."""

    def __init__(self, folder: Path | str, regions: RegionTable | None = None, pattern: str | None = None,
                 kernel: int = 9, threshold: int = 50) -> None:
        self.folder = Path(folder)
        self.table = regions
        self.kernel, self.threshold = (regions.kernel, regions.threshold) if regions else (kernel, threshold)
        self.pattern = pattern = background_glob(self.folder, pattern)
        files = list_images(self.folder, pattern)
        if regions is not None:
            dropped = [f for f in files if (f in regions.no_region or f in regions.unreadable)
                       and regions.fresh(self.folder, f)]
            if dropped:
                log.warning("%s: %d background(s) left out: no authentic region or unreadable "
                            "in the regions file (e.g. %s)", self.folder, len(dropped), dropped[0])
                files = [f for f in files if f not in set(dropped)]
        if len(files) < 2:
            raise DatasetError(f"{self.folder}: needs at least two usable background images "
                               f"matching {pattern!r}, found {len(files)}")
        self.files = files
        self._regions: dict[str, Box | None] = {}
        self.bad: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.files)

    def path(self, index: int) -> Path:
        return self.folder / self.files[index]

    def read(self, index: int) -> np.ndarray | None:
        """Full-resolution RGB image, or None (remembered, warned once) when it cannot be read."""
        name = self.files[index]
        if name in self.bad:
            return None
        try:
            return read_rgb(self.folder / name)
        except DatasetError as exc:
            self.mark_bad(name, str(exc))
            return None

    def region(self, index: int, image: np.ndarray) -> Box | None:
        """Authentic region of background ``index`` in the pixels of its full-resolution ``image``."""
        name = self.files[index]
        if name not in self._regions:
            cached = self.table.region(name) if self.table is not None and self.table.fresh(self.folder, name) else None
            size = (image.shape[1], image.shape[0])
            if cached is not None and tuple(cached[1]) == size:
                self._regions[name] = tuple(cached[0])
            else:
                if cached is not None:
                    log.warning("%s: size %s differs from the regions file's %s; recomputing its region",
                                self.folder / name, size, tuple(cached[1]))
                self._regions[name] = authentic_region(image, self.kernel, self.threshold)
        region = self._regions[name]
        if region is None:
            self.mark_bad(name, "no authentic region (no pixel darker than the margin)")
        return region

    def mark_bad(self, name: str, reason: str) -> None:
        """Remember a file as unusable and warn once, with the running count."""
        if name not in self.bad:
            self.bad[name] = reason
            log.warning("%s: background skipped (%s); %d skipped so far",
                        self.folder / name, reason.removeprefix(f"{self.folder / name}: "), len(self.bad))
