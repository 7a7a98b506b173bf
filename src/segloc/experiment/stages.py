"""Bookkeeping of an experiment's stages: which are done, how long they took, what they wrote.

The record lives in ``<run>/stages.json`` and is rewritten atomically after every stage, so an
interrupted experiment resumes at the first stage that is not marked done.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from segloc.engine.machine import machine_info

FINISHED_FORMAT = "%Y-%m-%d %H:%M:%S"  # local time at which a stage was marked done


class StageRecord:
    """Done-markers, wall times and outputs of the stages of one run folder."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / "stages.json"
        self.data: dict[str, dict] = json.loads(self.path.read_text()) if self.path.is_file() else {}

    def done(self, name: str) -> bool:
        return self.data.get(name, {}).get("done", False)

    def outputs(self, name: str) -> dict:
        return self.data.get(name, {}).get("outputs", {})

    def forget(self, names: list[str]) -> None:
        """Mark stages (and their sub-stages ``name/...``) as not done."""
        for key in list(self.data):
            if key.split("/")[0] in names:
                del self.data[key]
        self._write()

    @contextmanager
    def stage(self, name: str, carried: float = 0.0) -> Iterator[dict]:
        """Time the body and mark ``name`` done with the outputs the body put in the yielded dict;
        ``carried``: seconds an interrupted earlier attempt spent, which this one resumes."""
        outputs: dict = {}
        start = time.perf_counter()
        yield outputs
        self.mark(name, time.perf_counter() - start + carried, outputs, carried)

    def mark(self, name: str, seconds: float, outputs: dict, carried: float = 0.0) -> None:
        """Mark ``name`` done after ``seconds`` of work (timed elsewhere, e.g. in a worker process), of which
        ``carried`` were spent by earlier, interrupted attempts."""
        self.data[name] = {
            "done": True,
            "seconds": round(seconds, 2),
            **({"carried_seconds": round(carried, 2)} if carried else {}),
            "finished": time.strftime(FINISHED_FORMAT),
            "machine": machine_info(),
            "outputs": {k: str(v) if isinstance(v, Path) else v for k, v in outputs.items()},
        }
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.data, indent=2))
        os.replace(tmp, self.path)
