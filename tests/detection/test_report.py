"""Table 1 report: layout, naming by init, deltas to random init, files written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segloc.errors import SeglocError
from segloc.evaluation.report import METRIC_LABELS, build_table, parse_pair, read_run, to_markdown, write_report

SPLITS = ("hidden", "easy", "hard")


def _run(folder: Path, init: str, base: float) -> Path:
    splits = {}
    for i, split in enumerate(SPLITS):
        splits[split] = {
            task: {
                m: round(base + 0.1 * i + 0.01 * j + (0.05 if task == "segm" else 0), 4)
                for j, m in enumerate(METRIC_LABELS)
            }
            for task in ("bbox", "segm")
        }
    (folder / "eval").mkdir(parents=True)
    (folder / "eval" / "metrics.json").write_text(json.dumps({"init": init, "splits": splits}))
    return folder


def test_table_layout_and_deltas(tmp_path: Path) -> None:
    runs = [
        _run(tmp_path / "a", "segloc", 0.3),
        _run(tmp_path / "b", "random", 0.2),
        _run(tmp_path / "c", "supervised", 0.5),
    ]
    table = write_report(runs, tmp_path / "out")
    assert table["columns"] == [f"{t}/{s}" for t in ("bbox", "segm") for s in ("easy", "hard", "hidden")]
    assert [r["init"] for r in table["rows"]][::6] == ["segloc", "random", "supervised"]
    rows = {(r["init"], r["metric"]): r for r in table["rows"]}
    assert rows[("segloc", "AP75")]["values"]["segm/hidden"] == pytest.approx(0.3 + 0.02 + 0.05)
    assert rows[("supervised", "AR10")]["delta_vs_random"]["bbox/hard"] == pytest.approx(0.3)
    assert rows[("random", "AP")]["delta_vs_random"] == {}
    md = (tmp_path / "out" / "table1.md").read_text().splitlines()
    assert md[0] == (
        "| Init | Metric | Detection easy | Detection hard | Detection hidden | "
        "Segmentation easy | Segmentation hard | Segmentation hidden |"
    )
    assert len(md) == 2 + 3 * 6
    assert md[2].startswith("| segloc | AP @ [IoU = 0.5 : 0.95 maxDets = 100] | 0.400 (+0.100) |")
    assert json.loads((tmp_path / "out" / "table1.json").read_text()) == table
    assert (tmp_path / "out" / "table1_ap.png").read_bytes()[:4] == b"\x89PNG"


def test_duplicate_inits_are_told_apart_and_missing_cells_dashed(tmp_path: Path) -> None:
    a = _run(tmp_path / "run1", "random", 0.2)
    b = tmp_path / "run2"
    b.mkdir()
    (b / "metrics.json").write_text(json.dumps({"init": "random", "splits": {"easy": {"bbox": {"AP": 0.5}}}}))
    table = build_table([read_run(a), read_run(b)])
    assert {r["init"] for r in table["rows"]} == {"random (run1)", "random (run2)"}
    assert "| random (run2) | AP @ [IoU = 0.50 maxDets = 100] | - |" in to_markdown(table)


def test_runs_in_folders_of_one_name_keep_a_label_each(tmp_path: Path) -> None:
    first = _run(tmp_path / "random", "random", 0.2)
    again = _run(tmp_path / "whole" / "finetune" / "random", "random", 0.3)
    other = _run(tmp_path / "segloc", "segloc", 0.4)
    table = build_table([read_run(first), read_run(again), read_run(other)])
    assert list(table["runs"]) == ["random (random)", "random (whole/finetune/random)", "segloc"]
    assert {r["init"] for r in table["rows"]} == set(table["runs"])


def test_run_without_metrics_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SeglocError, match="no metrics found.*segloc evaluate"):
        read_run(tmp_path)


def test_per_class_ap_follows_the_table(tmp_path: Path) -> None:
    runs = []
    for init, gun in (("random", 0.1), ("segloc", 0.4)):
        folder = tmp_path / init
        (folder / "eval").mkdir(parents=True)
        split = {
            "bbox": {m: 0.2 for m in METRIC_LABELS},
            "per_class": {"bbox": {"Gun": {"AP": gun, "AP50": 0.5}, "Knife": {"AP": None, "AP50": None}}},
        }
        (folder / "eval" / "metrics.json").write_text(json.dumps({"init": init, "splits": {"easy": split}}))
        runs.append(folder)
    table = write_report(runs, tmp_path / "out")
    assert table["per_class"] == {
        "bbox/easy": {"Gun": {"random": 0.1, "segloc": 0.4}, "Knife": {"random": None, "segloc": None}}
    }
    md = (tmp_path / "out" / "table1.md").read_text()
    assert "per class, Detection easy" in md and "| Gun | 0.100 | 0.400 |" in md and "| Knife | - | - |" in md


def test_ap_axis_scales_to_the_data() -> None:
    from segloc.evaluation.report import AXIS_FLOOR, axis_top

    assert axis_top(0.0) == AXIS_FLOOR
    assert axis_top(0.05) == pytest.approx(0.06)
    assert axis_top(0.95) == 1.0


def _ap50_run(folder: Path, init: str, ap50: float) -> Path:
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps({"init": init, "splits": {"val": {"bbox": {"AP50": ap50}}}}))
    return folder


def test_several_seeds_per_init_are_averaged_and_compared_to_randoms_mean(tmp_path: Path) -> None:
    runs = [
        _ap50_run(tmp_path / "random", "random", 0.50),
        _ap50_run(tmp_path / "random-seed1", "random", 0.52),  # a standalone seed: same init name
        _ap50_run(tmp_path / "segloc", "segloc", 0.56),
        _ap50_run(tmp_path / "segloc-seed4", "segloc-seed4", 0.60),  # an experiment's extra seed
        _ap50_run(tmp_path / "insloc", "insloc", 0.55),
    ]
    table = write_report(runs, tmp_path / "out")
    per_init = {init: by_column["bbox/val"]["AP50"] for init, by_column in table["per_init"].items()}
    assert list(per_init) == ["random", "segloc", "insloc"]
    assert per_init["random"]["runs"] == 2 and per_init["random"]["vs_random"] is None
    assert per_init["random"]["mean"] == pytest.approx(0.51) and per_init["random"]["spread"] == pytest.approx(0.02)
    assert per_init["segloc"]["mean"] == pytest.approx(0.58) and per_init["segloc"]["vs_random"] == pytest.approx(0.07)
    assert per_init["insloc"]["runs"] == 1 and per_init["insloc"]["spread"] is None
    assert table["per_init"]["insloc"]["bbox/val"]["AP"] == {"runs": 0, "mean": None, "spread": None, "vs_random": None}
    deltas = {r["init"]: r["delta_vs_random"] for r in table["rows"] if r["metric"] == "AP50"}
    assert deltas["random (random)"] == {} and deltas["random (random-seed1)"] == {}
    assert deltas["segloc-seed4"]["bbox/val"] == pytest.approx(0.09)  # to the mean of both random runs
    md = (tmp_path / "out" / "table1.md").read_text()
    assert "| segloc | 2 | AP @ [IoU = 0.50 maxDets = 100] | 0.580 [0.040] (+0.070) |" in md
    assert "| insloc | 1 | AP @ [IoU = 0.50 maxDets = 100] | 0.550 (+0.040) |" in md


def test_one_run_per_init_has_no_table_of_means(tmp_path: Path) -> None:
    runs = [_ap50_run(tmp_path / "a", "random", 0.5), _ap50_run(tmp_path / "b", "segloc", 0.6)]
    table = write_report(runs, tmp_path / "out")
    assert "Each init over its runs" not in to_markdown(table)


def test_a_run_can_be_named_on_the_command_line(tmp_path: Path) -> None:
    run = _ap50_run(tmp_path / "chr-seed1", "ssl", 0.57)
    assert read_run(f"chr={run}").name == "chr" and read_run(f"chr={run}").source == run / "metrics.json"
    assert read_run(run).name == "ssl"
    with pytest.raises(SeglocError, match="no metrics found"):
        read_run(f"chr={tmp_path / 'missing'}")


def test_paired_inits_are_differenced_run_by_run_with_a_standard_error(tmp_path: Path) -> None:
    runs = [
        *(f"segloc={_ap50_run(tmp_path / f's{i}', 'x', v)}" for i, v in enumerate((0.60, 0.58, 0.65))),
        *(f"insloc={_ap50_run(tmp_path / f'i{i}', 'y', v)}" for i, v in enumerate((0.59, 0.60, 0.61))),
    ]
    table = write_report(runs, tmp_path / "out", [("segloc", "insloc")])
    entry = table["paired"]["segloc - insloc"]["bbox/val"]["AP50"]
    assert entry["differences"] == pytest.approx([0.01, -0.02, 0.04])
    assert entry["mean"] == pytest.approx(0.01) and entry["stderr"] == pytest.approx(0.03 / 3**0.5)
    assert table["paired"]["segloc - insloc"]["bbox/val"]["AP"] == {"differences": [], "mean": None, "stderr": None}
    md = (tmp_path / "out" / "table1.md").read_text()
    assert "segloc - insloc, run by run" in md
    assert "| AP @ [IoU = 0.50 maxDets = 100] | +0.010 +- 0.017 (3) |" in md


def test_pairs_need_both_inits_with_as_many_runs(tmp_path: Path) -> None:
    runs = [read_run(f"segloc={_ap50_run(tmp_path / f's{i}', 'x', 0.6)}") for i in range(2)]
    runs.append(read_run(f"insloc={_ap50_run(tmp_path / 'i0', 'y', 0.6)}"))
    with pytest.raises(SeglocError, match="2 runs of segloc against 1 of insloc"):
        build_table(runs, [("segloc", "insloc")])
    with pytest.raises(SeglocError, match="no run of init 'moco'"):
        build_table(runs, [("moco", "insloc")])
    with pytest.raises(SeglocError, match="expected FIRST:SECOND"):
        parse_pair("segloc")
    assert parse_pair("segloc:insloc") == ("segloc", "insloc")
