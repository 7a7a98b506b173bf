"""SIXray classification dataset: label columns by name, transforms, deterministic sampling."""

import cv2
import numpy as np
import pytest
import torch

from segloc.classification.data import (
    EpochSampler,
    SixrayClassification,
    positive_weights,
    sample_weights,
    train_transform,
)
from segloc.errors import DatasetError


@pytest.fixture()
def mini_root(tmp_path):
    """Three images; the CSV columns are shuffled and carry an extra Hammer column."""
    (tmp_path / "JPEGImage").mkdir()
    for name in ("P001", "P002", "N003"):
        cv2.imwrite(str(tmp_path / "JPEGImage" / f"{name}.jpg"), np.full((40, 60, 3), 128, np.uint8))
    folder = tmp_path / "ImageSet" / "10"
    folder.mkdir(parents=True)
    (folder / "train.csv").write_text(
        "name,Knife,Gun,Hammer,Scissors,Pliers,Wrench\n"
        "P001,1,-1,-1,-1,-1,0\n"
        "P002,-1,1,1,-1,1,-1\n"
        "N003,-1,-1,-1,-1,-1,-1\n"
    )
    return tmp_path


def test_labels_follow_class_names_not_csv_order(mini_root):
    ds = SixrayClassification(mini_root, "10", "train", size=32)
    assert ds.class_names == ["Gun", "Knife", "Wrench", "Pliers", "Scissors"]
    assert ds.labels.tolist() == [[-1, 1, 0, -1, -1], [1, -1, -1, 1, -1], [-1, -1, -1, -1, -1]]
    image, label, index = ds[1]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32
    assert index == 1 and label.tolist() == [1, -1, -1, 1, -1]


def test_missing_class_column_names_the_file(mini_root):
    with pytest.raises(DatasetError, match=r"train\.csv: no column for class\(es\) \['Axe'\]"):
        SixrayClassification(mini_root, "10", "train", class_names=["Gun", "Axe"])


def test_training_augmentation_is_a_function_of_seed_epoch_index(mini_root):
    ds = SixrayClassification(mini_root, "10", "train", train=True, size=24, resize=32, seed=3)
    assert torch.equal(ds[(0, 5)][0], ds[(0, 5)][0])
    ramp = np.tile(np.arange(32, dtype=np.uint8)[None, :, None], (32, 1, 3)) * 8
    same = [train_transform(ramp, 24, 32, np.random.default_rng((3, 5, 0))) for _ in range(2)]
    assert torch.equal(same[0], same[1])
    varied = {train_transform(ramp, 24, 32, np.random.default_rng((3, e, 0)))[0, 0, 0].item() for e in range(10)}
    assert len(varied) > 1  # the crop/flip does change with the key


def test_sampler_is_deterministic_and_skips_for_resume():
    full = list(EpochSampler(10, epoch=2, seed=1))
    assert full == list(EpochSampler(10, epoch=2, seed=1))
    assert sorted(i for i, _ in full) == list(range(10)) and all(e == 2 for _, e in full)
    assert list(EpochSampler(10, epoch=2, seed=1, start=4)) == full[4:]
    assert full != list(EpochSampler(10, epoch=3, seed=1))
    ranks = [list(EpochSampler(10, epoch=2, seed=1, rank=r, world_size=3)) for r in range(3)]
    assert all(len(r) == 3 for r in ranks)
    assert len({i for r in ranks for i, _ in r}) == 9  # disjoint shards


def test_weighted_sampling_balances_groups():
    labels = torch.tensor(
        [[1, -1], [-1, 1], [-1, 1], [-1, -1], [-1, -1], [-1, -1], [-1, -1], [-1, -1]], dtype=torch.float32
    )
    weights = sample_weights(labels)
    assert weights.tolist() == pytest.approx([1.0, 0.5, 0.5, 0.2, 0.2, 0.2, 0.2, 0.2])
    draws = [i for e in range(200) for i, _ in EpochSampler(8, e, weights=weights)]
    share_first = draws.count(0) / len(draws)
    assert share_first == pytest.approx(1 / 3, abs=0.04)  # each of the 3 groups gets a third


def test_positive_weights():
    labels = torch.tensor([[1, -1, -1], [0, -1, -1], [-1, 1, -1], [-1, -1, -1]], dtype=torch.float32)
    assert positive_weights(labels).tolist() == pytest.approx([1.0, 3.0, 1.0])
