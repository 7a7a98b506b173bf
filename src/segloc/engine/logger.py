"""Scalars to a long-format CSV (step, name, value) and to TensorBoard; text log to log.txt."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from segloc.errors import log as segloc_log


class RunLogger:
    """Writes ``metrics.csv`` and TensorBoard events under a run folder (main process only)."""

    def __init__(self, run_dir: Path | str, tensorboard: bool = True, enabled: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.enabled = enabled
        self._tb = None
        if not enabled:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.run_dir / "metrics.csv"
        new = not self.csv_path.exists()
        self._csv_file = open(self.csv_path, "a", newline="", encoding="utf-8")
        self._csv = csv.writer(self._csv_file)
        if new:
            self._csv.writerow(["step", "name", "value"])
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(self.run_dir / "tb"))
        self._file_handler = logging.FileHandler(self.run_dir / "log.txt", encoding="utf-8")
        self._file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        segloc_log.addHandler(self._file_handler)
        segloc_log.setLevel(logging.INFO)

    def log(self, step: int, **scalars: float) -> None:
        """Record scalars at ``step``."""
        if not self.enabled:
            return
        for name, value in scalars.items():
            self._csv.writerow([step, name, f"{float(value):.6g}"])
            if self._tb is not None:
                self._tb.add_scalar(name, float(value), step)
        self._csv_file.flush()

    def truncate_after(self, step: int) -> None:
        """Drop rows logged after ``step`` (used on resume so the CSV has no duplicate steps)."""
        if not self.enabled:
            return
        self._csv_file.close()
        with open(self.csv_path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        keep = [rows[0]] + [r for r in rows[1:] if int(r[0]) <= step]
        with open(self.csv_path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(keep)
        self._csv_file = open(self.csv_path, "a", newline="", encoding="utf-8")
        self._csv = csv.writer(self._csv_file)

    def close(self) -> None:
        if not self.enabled:
            return
        self._csv_file.close()
        if self._tb is not None:
            self._tb.close()
        segloc_log.removeHandler(self._file_handler)
        self._file_handler.close()


def read_metrics(path: Path | str) -> dict[str, list[tuple[int, float]]]:
    """Read a ``metrics.csv`` back as name -> [(step, value), ...]."""
    series: dict[str, list[tuple[int, float]]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            series.setdefault(row["name"], []).append((int(row["step"]), float(row["value"])))
    return series
