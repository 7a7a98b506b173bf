"""End to end on four drawn scans: Cascade Mask R-CNN and Mask R-CNN overfit them, the metrics json
matches pycocotools on the written results, and evaluate / detect / report work on the runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from typer.testing import CliRunner

from segloc.cli.main import app
from segloc.detection import finetune, load_detector
from segloc.engine.logger import read_metrics

EPOCHS = 30  # 60 steps of 2 images: at 20 (40 steps) one CPU's float kernels left Mask R-CNN at AP 0.08, under the bar


@pytest.fixture(scope="module")
def runs(shapes_root: Path, make_config, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("overfit")
    train, optim = {"epochs": EPOCHS, "log_every": 1}, {"milestones": [EPOCHS]}
    return {
        kind: finetune(
            make_config(shapes_root, kind, train=train, optim=optim, init_name=name), out / kind, progress=False
        )
        for kind, name in (("cascade", "random"), ("mask_rcnn", "segloc"))
    }


@pytest.mark.parametrize("kind", ["cascade", "mask_rcnn"])
def test_loss_falls_and_ap_rises(runs: dict[str, Path], kind: str) -> None:
    losses = [v for _, v in read_metrics(runs[kind] / "metrics.csv")["loss"]]
    assert len(losses) == 2 * EPOCHS
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:3])
    easy = json.loads((runs[kind] / "eval" / "metrics.json").read_text())["splits"]["easy"]
    assert easy["bbox"]["AP"] > 0.1 and easy["bbox"]["AP50"] > 0.25
    assert easy["segm"]["AP"] > 0.1 and easy["segm"]["AP50"] > 0.25
    if kind == "cascade":
        assert {"loss_classifier_s2", "loss_box_reg_s2", "loss_mask"} <= set(read_metrics(runs[kind] / "metrics.csv"))


def test_metrics_json_equals_pycocotools_on_results_json(runs: dict[str, Path], shapes_root: Path) -> None:
    run = runs["cascade"]
    metrics = json.loads((run / "eval" / "metrics.json").read_text())["splits"]["easy"]
    gt = COCO(str(shapes_root / "annotations" / "xray_test_easy.json"))
    results = json.loads((run / "eval" / metrics["detections"]).read_text())
    assert results and {"bbox", "score", "category_id", "segmentation", "image_id"} <= set(results[0])
    for iou_type in ("bbox", "segm"):
        ev = COCOeval(gt, gt.loadRes(results), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        expected = dict(zip(["AP", "AP50", "AP75", "AR1", "AR10", "AR100"], ev.stats[[0, 1, 2, 6, 7, 8]]))
        assert metrics[iou_type] == pytest.approx(expected, abs=1e-12)


def test_evaluate_cli_reproduces_training_metrics(runs: dict[str, Path], shapes_root: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["evaluate", str(runs["cascade"]), "--data", str(shapes_root), "--split", "easy", "--out", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    fresh = json.loads((tmp_path / "metrics.json").read_text())
    trained = json.loads((runs["cascade"] / "eval" / "metrics.json").read_text())
    assert fresh["splits"]["easy"]["bbox"] == pytest.approx(trained["splits"]["easy"]["bbox"])
    assert fresh["init"] == "random"


def test_detect_cli_writes_predictions_and_overlays(runs: dict[str, Path], shapes_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "preds.json"
    res = CliRunner().invoke(
        app,
        [
            "detect",
            str(runs["cascade"]),
            str(shapes_root / "easy" / "easy_000.png"),
            str(shapes_root / "easy" / "easy_001.png"),
            "--out",
            str(out),
            "--draw",
            str(tmp_path / "draw"),
            "--score-thr",
            "0.12",
        ],
    )
    assert res.exit_code == 0, res.output
    preds = json.loads(out.read_text())
    assert [Path(p["file"]).name for p in preds] == ["easy_000.png", "easy_001.png"]
    dets = [d for p in preds for d in p["detections"]]
    assert dets and all(d["score"] >= 0.12 and d["category"] in {"Block", "Disc", "Wedge"} for d in dets)
    assert sorted(p.name for p in (tmp_path / "draw").iterdir()) == ["easy_000.png", "easy_001.png"]
    detector = load_detector(runs["cascade"])
    assert detector.categories.names == ("Block", "Disc", "Wedge") and detector.masks


def test_report_cli_table_with_delta_to_random(runs: dict[str, Path], tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["report", str(runs["cascade"]), str(runs["mask_rcnn"]), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    table = json.loads((tmp_path / "table1.json").read_text())
    assert table["columns"] == ["bbox/easy", "segm/easy"]
    rows = {(r["init"], r["metric"]): r for r in table["rows"]}
    assert set(rows) == {(i, m) for i in ("random", "segloc") for m in ("AP", "AP50", "AP75", "AR1", "AR10", "AR100")}
    ap = {
        i: json.loads((runs[k] / "eval" / "metrics.json").read_text())["splits"]["easy"]["bbox"]["AP"]
        for k, i in (("cascade", "random"), ("mask_rcnn", "segloc"))
    }
    assert rows[("segloc", "AP")]["delta_vs_random"]["bbox/easy"] == pytest.approx(ap["segloc"] - ap["random"])
    assert rows[("random", "AP")]["delta_vs_random"] == {}
    assert (tmp_path / "table1_ap.png").stat().st_size > 1000
    assert "| segloc | AP @ [IoU = 0.5 : 0.95 maxDets = 100] |" in (tmp_path / "table1.md").read_text()


def test_metrics_hold_per_class_ap_pr_curves_and_mix_ups(runs: dict[str, Path], shapes_root: Path) -> None:
    eval_dir = runs["cascade"] / "eval"
    easy = json.loads((eval_dir / "metrics.json").read_text())["splits"]["easy"]
    for task in ("bbox", "segm"):
        per_class = easy["per_class"][task]
        assert set(per_class) == {"Block", "Disc", "Wedge"}
        present = [v["AP"] for v in per_class.values() if v["AP"] is not None]
        assert present and all(0.0 <= ap <= 1.0 for ap in present)
        assert min(present) <= easy[task]["AP"] + 1e-9 <= max(present) + 2e-9  # the overall AP is their mean
    curves = json.loads((eval_dir / "easy" / "pr_curves.json").read_text())
    assert set(curves) == {"bbox", "segm"} and all(len(c) == 101 for c in curves["bbox"].values())
    assert (eval_dir / easy["pr_curves"]).read_bytes()[:4] == b"\x89PNG"
    truths = sum(n for t, row in easy["confusion"].items() if t != "background" for n in row.values())
    assert truths == len(json.loads((shapes_root / "annotations" / "xray_test_easy.json").read_text())["annotations"])
    assert all(m["true"] != m["detected"] for m in easy["mix_ups"])
    report = (eval_dir / "report.md").read_text()
    assert "AP per class" in report and "| Block |" in report and "Class mix-ups" in report


def test_evaluation_matches_classes_by_name_and_refuses_unknown_ones(
    runs: dict[str, Path], shapes_root: Path, tmp_path: Path
) -> None:
    data = json.loads((shapes_root / "annotations" / "xray_test_easy.json").read_text())
    renumber = {1: 7, 2: 3, 3: 5}  # the same classes under other ids, listed in another order
    for ann in data["annotations"]:
        ann["category_id"] = renumber[ann["category_id"]]
    data["categories"] = [{"id": renumber[c["id"]], "name": c["name"].upper()} for c in reversed(data["categories"])]
    other_ids = tmp_path / "renumbered.json"
    other_ids.write_text(json.dumps(data))
    res = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(runs["cascade"]),
            "--labels",
            str(other_ids),
            "--images",
            str(shapes_root / "easy"),
            "--out",
            str(tmp_path / "ev"),
        ],
    )
    assert res.exit_code == 0, res.output
    fresh = json.loads((tmp_path / "ev" / "metrics.json").read_text())["splits"]["renumbered"]
    trained = json.loads((runs["cascade"] / "eval" / "metrics.json").read_text())["splits"]["easy"]
    assert fresh["bbox"] == pytest.approx(trained["bbox"])
    assert fresh["per_class"]["bbox"]["DISC"] == pytest.approx(trained["per_class"]["bbox"]["Disc"])

    data["categories"][0]["name"] = "Baton"
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps(data))
    res = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(runs["cascade"]),
            "--labels",
            str(unknown),
            "--images",
            str(shapes_root / "easy"),
            "--out",
            str(tmp_path / "ev2"),
        ],
    )
    assert res.exit_code != 0
    message = str(res.exception)
    assert "['Baton'] unknown to the model" in message and "'Block', 'Disc', 'Wedge'" in message
