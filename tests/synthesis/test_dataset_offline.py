import json

import cv2
import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

from segloc.errors import ConfigError
from segloc.synthesis.builder import build_sampler, synthesize
from segloc.synthesis.dataset import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    InsLocPairDataset,
    SegLocPairDataset,
    ShardPairDataset,
    collate_pairs,
    white_value,
)
from segloc.synthesis.offline import ShardReader, write_shards


def _segloc(data, seed=0):
    return build_sampler("segloc", data.backgrounds, data.labelled, data.images, seed=seed, background_glob="N*")


def test_items_are_normalised_tensors_and_reproducible(handmade):
    sampler, _ = _segloc(handmade)
    item = SegLocPairDataset(sampler, 10)[3]
    again = SegLocPairDataset(_segloc(handmade)[0], 10)[3]
    view = item["view1"]
    assert item["index"] == 3 and view["image"].dtype == torch.float32 and view["image"].shape[0] == 3
    assert view["mask"].dtype == torch.uint8 and view["mask"].shape == view["image"].shape[1:]
    assert view["box"].shape == (4,) and view["label"] == item["view2"]["label"] > 0
    pixel = sampler(3).view1.image[0, 0] / 255.0
    expected = (torch.tensor(pixel, dtype=torch.float32) - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    assert torch.allclose(view["image"][:, 0, 0], expected, atol=1e-5)
    assert torch.equal(view["image"], again["view1"]["image"]) and torch.equal(view["box"], again["view1"]["box"])


def test_set_epoch_shifts_to_fresh_pairs(handmade):
    dataset = SegLocPairDataset(_segloc(handmade)[0], 4)
    first = dataset[1]
    dataset.set_epoch(2)
    shifted = dataset[1]
    assert shifted["index"] == 9
    assert not torch.equal(first["view1"]["box"], shifted["view1"]["box"])
    assert torch.equal(shifted["view1"]["box"], SegLocPairDataset(_segloc(handmade)[0], 12)[9]["view1"]["box"])
    with pytest.raises(IndexError):
        dataset[4]


def test_collate_pads_with_white_and_keeps_sizes(handmade):
    dataset = SegLocPairDataset(_segloc(handmade)[0], 8)
    items = [dataset[i] for i in range(8)]
    heights = {it["view1"]["image"].shape[1] for it in items}
    assert len(heights) > 1  # backgrounds of different aspect
    batch = collate_pairs(items)
    v1 = batch["view1"]
    assert v1["image"].shape == (8, 3, max(heights), 500)
    for i, it in enumerate(items):
        h, w = it["view1"]["image"].shape[1:]
        assert v1["size"][i].tolist() == [h, w]
        assert torch.equal(v1["image"][i, :, :h, :w], it["view1"]["image"])
        if h < max(heights):
            assert torch.allclose(v1["image"][i, :, h:, :], white_value().view(3, 1, 1).expand(3, max(heights) - h, w))
        assert torch.equal(v1["box"][i], it["view1"]["box"])
    assert batch["index"].tolist() == list(range(8)) and v1["label"].dtype == torch.long
    assert torch.equal(batch["view2"]["label"], v1["label"])


def test_insloc_dataset_collates(handmade):
    sampler, _ = build_sampler("insloc", handmade.backgrounds, handmade.labelled, handmade.images)
    batch = collate_pairs([InsLocPairDataset(sampler, 3)[i] for i in range(3)])
    assert batch["view1"]["image"].shape == (3, 3, 256, 256) and (batch["view2"]["label"] == -1).all()


def _equal_items(a, b):
    return (
        a["index"] == b["index"]
        and all(torch.equal(a[v][k], b[v][k]) for v in ("view1", "view2") for k in ("image", "box", "mask"))
        and a["view1"]["label"] == b["view1"]["label"]
    )


@pytest.mark.parametrize("data_name", ["handmade", "generated"])
def test_offline_shards_equal_the_on_the_fly_pairs(data_name, request, tmp_path):
    data = request.getfixturevalue(data_name)
    out = tmp_path / "pairs"
    summary = synthesize(
        "segloc",
        data.backgrounds,
        out,
        7,
        data.labelled,
        data.images,
        shard_size=3,
        seed=5,
        background_glob="N*",
        progress=False,
    )
    assert summary == {"shards": 3, "written": 3, "skipped": 0, "pairs": 7}
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "shard_00000", "shard_00001", "shard_00002"]
    offline = ShardPairDataset(out)
    online = SegLocPairDataset(_segloc(data, seed=5)[0], 7)
    assert len(offline) == 7
    for i in range(7):
        assert _equal_items(offline[i], online[i]), i


def test_parallel_writing_equals_serial(handmade, tmp_path):
    sampler, manifest = _segloc(handmade)
    write_shards(sampler, 6, tmp_path / "serial", manifest, shard_size=4, progress=False)
    write_shards(sampler, 6, tmp_path / "parallel", manifest, shard_size=4, workers=2, progress=False)
    serial, parallel = ShardReader(tmp_path / "serial"), ShardReader(tmp_path / "parallel")
    for i in range(6):
        assert np.array_equal(serial[i].view2.image, parallel[i].view2.image)
        assert np.array_equal(serial[i].view2.mask, parallel[i].view2.mask)


class _Interrupt(Exception):
    pass


def test_resume_skips_finished_shards_and_completes_the_rest(handmade, tmp_path):
    sampler, manifest = _segloc(handmade)
    out = tmp_path / "pairs"

    def crashing(index):
        if index == 5:
            raise _Interrupt
        return sampler(index)

    with pytest.raises(_Interrupt):
        write_shards(crashing, 8, out, manifest, shard_size=2, progress=False)
    finished = sorted(p.name for p in out.glob("shard_*") if not p.name.endswith(".partial"))
    assert finished == ["shard_00000", "shard_00001"] and (out / "shard_00002.partial").is_dir()
    mtimes = {p: p.stat().st_mtime_ns for name in finished for p in (out / name).iterdir()}

    summary = write_shards(sampler, 8, out, manifest, shard_size=2, progress=False)
    assert summary == {"shards": 4, "written": 2, "skipped": 2, "pairs": 8}
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes  # finished shards untouched
    assert not list(out.glob("*.partial"))
    reader = ShardReader(out)
    assert [reader[i].index for i in range(len(reader))] == list(range(8))
    assert np.array_equal(reader[5].view1.image, sampler(5).view1.image)


def test_a_folder_of_another_run_is_refused(handmade, tmp_path):
    sampler, manifest = _segloc(handmade)
    write_shards(sampler, 2, tmp_path, manifest, shard_size=2, progress=False)
    with pytest.raises(ConfigError, match="seed"):
        write_shards(sampler, 2, tmp_path, dict(manifest, seed=1), shard_size=2, progress=False)
    with pytest.raises(ConfigError, match="pairs"):
        write_shards(sampler, 3, tmp_path, manifest, shard_size=2, progress=False)


def test_jpeg_shards_are_close_to_the_pairs(handmade, tmp_path):
    sampler, manifest = _segloc(handmade)
    write_shards(sampler, 2, tmp_path, manifest, shard_size=2, jpeg_quality=95, progress=False)
    stored = ShardReader(tmp_path)[1]
    assert (tmp_path / "shard_00000" / "00000001_1.jpg").is_file()
    mse = ((stored.view1.image.astype(float) - sampler(1).view1.image) ** 2).mean()
    assert 0 < mse and 10 * np.log10(255**2 / mse) > 30  # PSNR above 30 dB
    assert np.array_equal(stored.view1.mask, sampler(1).view1.mask)


def test_synthesize_cli_writes_shards_and_a_preview(handmade, tmp_path):
    from segloc.cli.synthesize import synthesize_cmd

    app = typer.Typer()
    app.command("synthesize")(synthesize_cmd)
    app.command("unused")(lambda: None)
    preview = tmp_path / "preview.png"
    args = [
        "synthesize",
        "--backgrounds",
        str(handmade.backgrounds),
        "--labelled",
        str(handmade.labelled),
        "--images",
        str(handmade.images),
        "--pairs",
        "3",
        "--out",
        str(tmp_path / "out"),
        "--shard-size",
        "2",
        "--preview",
        str(preview),
        "--background-glob",
        "N*",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.rindex("{") :])  # after tqdm's stderr lines
    assert summary["written"] == 2 and summary["shards"] == 2
    gallery = cv2.imread(str(preview))
    assert gallery is not None and gallery.shape[0] >= 3 * 320
    bad = CliRunner().invoke(app, args[:1] + ["--method", "simclr"] + args[1:])
    assert bad.exit_code != 0 and "segloc or insloc" in bad.output
