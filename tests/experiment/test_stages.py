"""The stage record: done-markers and wall times that survive a restart, an interrupted stage timed whole."""

from __future__ import annotations

import json
import time

from segloc.experiment.stages import StageRecord


def test_a_resumed_stage_counts_the_time_its_interrupted_attempt_carried(tmp_path) -> None:
    record = StageRecord(tmp_path)
    with record.stage("chr", carried=100.0) as out:
        out["backbone"] = tmp_path / "chr.safetensors"
        time.sleep(0.01)
    with record.stage("data") as out:
        pass
    saved = json.loads((tmp_path / "stages.json").read_text())
    assert 100.0 < saved["chr"]["seconds"] < 160.0 and saved["chr"]["carried_seconds"] == 100.0
    assert "carried_seconds" not in saved["data"] and saved["chr"]["outputs"]["backbone"].endswith("chr.safetensors")
    reloaded = StageRecord(tmp_path)
    assert reloaded.done("chr") and reloaded.done("data") and not reloaded.done("probe")
    reloaded.forget(["chr"])
    assert not StageRecord(tmp_path).done("chr") and StageRecord(tmp_path).done("data")
