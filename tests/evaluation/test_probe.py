"""kNN probe: the vote, and box features of a generated PIDray split."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from segloc.data.pidray import load_pidray
from segloc.errors import DatasetError
from segloc.evaluation.probe import (
    ProbeSet,
    box_features,
    hold_out,
    knn_predict,
    knn_probe,
    load_probe_set,
    root_probe_sets,
)
from segloc.models import build_backbone


def test_knn_predict_follows_the_weighted_majority() -> None:
    centres = F.normalize(torch.eye(3, 8), dim=1)
    train_x = F.normalize(centres.repeat_interleave(5, 0) + 0.05 * torch.randn(15, 8), dim=1)
    train_y = torch.tensor([3, 7, 9]).repeat_interleave(5)
    test_x = F.normalize(centres + 0.05 * torch.randn(3, 8), dim=1)
    assert knn_predict(train_x, train_y, test_x, k=5).tolist() == [3, 7, 9]
    # one very close neighbour outvotes four far ones at a low temperature
    near = torch.tensor([[1.0, 0.0]])
    train = F.normalize(torch.tensor([[1.0, 0.01], [0.2, 1.0], [0.2, 1.0], [0.2, 1.0], [0.2, 1.0]]), dim=1)
    assert knn_predict(train, torch.tensor([1, 2, 2, 2, 2]), near, k=5, temperature=0.01).tolist() == [1]


def test_box_features_and_probe_on_generated_scans(generated_tiny) -> None:
    root, _ = generated_tiny
    splits = load_pidray(root / "pidray", ("train", "easy"))
    torch.manual_seed(0)
    backbone = build_backbone("resnet18", fpn_levels=("p2", "p3", "p4", "p5"))
    train, easy = (load_probe_set(splits[s], width=128) for s in ("train", "easy"))
    boxes = sum(len(r.instances) for r in splits["easy"].images)
    assert all(image.shape[0] == 3 and image.shape[2] == 128 for image in easy.images)
    x = box_features(backbone, easy)
    assert x.shape == (boxes, 256 + 512) and easy.labels.shape == (boxes,)
    assert torch.allclose(x.norm(dim=1), torch.ones(boxes), atol=1e-5)
    assert set(easy.labels.tolist()) <= set(splits["easy"].categories)
    result = knn_probe(backbone, train, {"easy": easy}, k=5)["easy"]
    assert 0.0 <= result["top1"] <= 1.0 and result["test_boxes"] == boxes
    assert set(result["per_class"]) <= set(splits["easy"].categories.values())
    assert result["class_mean"] == pytest.approx(sum(result["per_class"].values()) / len(result["per_class"]))


def test_hold_out_keeps_each_image_with_its_boxes() -> None:
    images = [torch.full((3, 4, 4), i, dtype=torch.uint8) for i in range(6)]
    boxes = [torch.zeros(n, 4) + i for i, n in enumerate([1, 2, 1, 3, 1, 2])]
    labels = torch.cat([torch.full((len(b),), 10 + i) for i, b in enumerate(boxes)])
    index, held = hold_out(ProbeSet(images, boxes, labels, {}), every=3)
    assert [int(im[0, 0, 0]) for im in held.images] == [2, 5]
    assert [int(im[0, 0, 0]) for im in index.images] == [0, 1, 3, 4]
    assert held.labels.tolist() == [12, 15, 15] and index.labels.tolist() == [10, 11, 11, 13, 13, 13, 14]
    assert all(int(b[0, 0]) == int(im[0, 0, 0]) for b, im in zip(index.boxes, index.images))
    with pytest.raises(DatasetError, match="too few"):
        hold_out(ProbeSet(images[:2], boxes[:2], labels[:3], {}), every=3)


def test_probe_command_reports_val_and_test_splits(generated_tiny) -> None:
    from typer.testing import CliRunner

    from segloc.cli.main import app

    root, _ = generated_tiny
    result = CliRunner().invoke(
        app, ["probe", "random", "--data", str(root / "pidray"), "--split", "easy", "--width", "96", "--k", "5"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("random: val ") and ", easy " in result.stdout


def test_probe_command_reads_the_real_layout_and_probes_its_val_split(tiny_real) -> None:
    from typer.testing import CliRunner

    from segloc.cli.main import app

    result = CliRunner().invoke(app, ["probe", "random", "--data", str(tiny_real), "--width", "96", "--k", "5"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("random: val ") and "test" not in result.stdout.splitlines()[0]


def test_root_probe_sets_never_holds_out_of_the_real_train_split(tiny_real) -> None:
    train, tests = root_probe_sets(tiny_real, width=96, holdout_every=2)
    train_json = json.loads((tiny_real / "sixray-det" / "annotations" / "train.json").read_text())
    assert set(tests) == {"val"} and len(train.images) == len(train_json["images"])
