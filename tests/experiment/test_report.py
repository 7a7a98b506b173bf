"""The experiment report's probe summary: box-weighted means, class means, differences to random init."""

from __future__ import annotations

import pytest

from segloc.experiment.report import probe_summary


def _split(top1: float, class_mean: float | None, boxes: int) -> dict:
    entry = {"top1": top1, "test_boxes": boxes}
    return entry if class_mean is None else {**entry, "class_mean": class_mean}


def test_probe_summary_weights_by_boxes_and_compares_to_random() -> None:
    probe = {
        "random": {"easy": _split(0.5, 0.4, 100), "hard": _split(0.3, 0.2, 300)},
        "segloc": {"easy": _split(0.7, 0.6, 100), "hard": _split(0.5, 0.5, 300), "val": _split(0.9, 0.9, 10)},
    }
    out = probe_summary(probe)
    assert out["random"]["mean"] == pytest.approx(0.35) and out["random"]["class_mean"] == pytest.approx(0.25)
    assert out["segloc"]["mean_vs_random"] == pytest.approx(0.55 - 0.35)
    assert out["segloc"]["class_mean_vs_random"] == pytest.approx(0.525 - 0.25)
    assert out["random"]["mean_vs_random"] is None and out["segloc"]["val"] == 0.9


def test_a_probe_written_without_class_means_still_summarises() -> None:
    out = probe_summary({"random": {"val": _split(0.6, None, 20)}, "segloc": {"val": _split(0.7, 0.7, 20)}})
    assert out["random"]["class_mean"] is None and out["segloc"]["class_mean_vs_random"] is None
    assert out["segloc"]["mean_vs_random"] == pytest.approx(0.1)
