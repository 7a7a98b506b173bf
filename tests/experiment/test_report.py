"""The experiment report's summaries: probe (box-weighted means, class means) and box AP50 per class,
each with its difference to random init; the pretext's loss against chance and the collapse monitor."""

from __future__ import annotations

import math

import pytest

from segloc.experiment.report import class_summary, pretext_summary, probe_summary
from segloc.pretrain.config import PretrainConfig


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


def _splits(**per_split: dict[str, float | None]) -> dict:
    return {
        split: {"per_class": {"bbox": {name: {"AP50": ap} for name, ap in classes.items()}}}
        for split, classes in per_split.items()
    }


def test_class_summary_averages_splits_then_runs_and_compares_to_random() -> None:
    runs = {
        "random": _splits(easy={"Gun": 0.6, "Knife": 0.1}, hard={"Gun": 0.4, "Knife": None}),
        "random-seed1": _splits(easy={"Gun": 0.4, "Knife": 0.2}, hard={"Gun": 0.2, "Knife": 0.2}),
        "segloc": _splits(easy={"Gun": 0.5, "Knife": 0.4}, hard={"Gun": 0.5, "Knife": 0.2}),
    }
    init_of = {"random": "random", "random-seed1": "random", "segloc": "segloc"}
    out = class_summary(runs, init_of, ["easy", "hard"])
    assert list(out) == ["Gun", "Knife"] and list(out["Gun"]) == ["random", "segloc"]
    gun, knife = out["Gun"], out["Knife"]
    assert gun["random"]["runs"] == 2 and gun["random"]["mean"] == pytest.approx(0.4)
    assert gun["random"]["spread"] == pytest.approx(0.2) and gun["random"]["vs_random"] is None
    assert knife["random"]["mean"] == pytest.approx(0.15)  # a class absent from a split is left out, not zero
    assert knife["segloc"]["vs_random"] == pytest.approx(0.3 - 0.15) and knife["segloc"]["spread"] is None


def test_class_summary_without_random_init_gives_no_difference() -> None:
    out = class_summary({"segloc": _splits(val={"Gun": 0.5})}, {"segloc": "segloc"}, ["val"])
    assert out == {"Gun": {"segloc": {"runs": 1, "mean": 0.5, "spread": None, "vs_random": None}}}


def _pretrain_config(method: str, queue_size: int) -> PretrainConfig:
    data = {"source": "shards", "shards": "pairs", "pairs": "segloc" if method == "segloc" else "insloc"}
    return PretrainConfig.model_validate({"method": method, "contrast": {"queue_size": queue_size}, "data": data})


def test_pretext_summary_reads_the_last_fifth_against_chance_and_flags_a_collapse() -> None:
    steps = range(10, 101, 10)
    curves = {
        "segloc": {
            "loss": [(s, 30.0 if s < 80 else 11.1) for s in steps],
            "acc": [(s, 0.5) for s in steps],
            "rank": [(s, 0.5 if s < 80 else 0.9) for s in steps],
            "std": [(s, 0.8) for s in steps],
        },
        "moco": {"loss": [(s, 7.0) for s in steps], "std": [(s, 0.8 if s < 80 else 0.01) for s in steps]},
    }
    configs = {"segloc": _pretrain_config("segloc", 256), "moco": _pretrain_config("moco", 1023)}
    out = pretext_summary(curves, configs)
    segloc, moco = out["segloc"], out["moco"]
    assert segloc["steps"] == 100 and math.isclose(segloc["chance"], 4 * math.log(257))
    assert math.isclose(segloc["loss"], 11.1) and math.isclose(segloc["below_chance"], 0.5, abs_tol=0.001)
    assert segloc["acc"] == pytest.approx(0.5) and segloc["rank"] == pytest.approx(0.9) and not segloc["collapsed"]
    assert math.isclose(moco["chance"], math.log(1024)) and moco["collapsed"] and moco["acc"] is None
    assert moco["rank"] is None
    assert moco["below_chance"] == pytest.approx(1 - 7.0 / math.log(1024))
