"""Broken image files: decompression-bomb headers, truncated, empty and text files; `detect` keeps its work."""
from __future__ import annotations

import json
import logging
import resource
from pathlib import Path

import pytest
from bad_inputs import assert_clean_error, png_header_only, tiny_detector

from segloc.data.images import read_rgb
from segloc.errors import DatasetError


def test_bomb_header_is_refused_before_decoding(cli, coco, tmp_path: Path) -> None:
    path, images, data = coco
    (images / "s0.png").write_bytes(png_header_only(20000, 20000))
    data["images"][0].update(width=20000, height=20000)
    path.write_text(json.dumps(data))
    assert_clean_error(cli("data", "stats", path, "--format", "coco", "--images", images), "s0.png", "over the limit")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(DatasetError, match="over the limit"):
        read_rgb(images / "s0.png")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 200_000  # KiB: nothing near 1.2 GB
    (images / "s1.png").write_bytes(png_header_only(10000, 7000))  # under PIL's own limit, over segloc's
    with pytest.raises(DatasetError, match="10000x7000 over the limit"):
        read_rgb(images / "s1.png")


@pytest.mark.parametrize("damage", ["truncated jpeg", "empty", "text"])
def test_verify_decodes_every_image(cli, sixray: Path, damage: str) -> None:
    image = sixray / "JPEGImage" / "N0000003.jpg"
    data = image.read_bytes()
    image.write_bytes({"truncated jpeg": data[:-200], "empty": b"", "text": b"just some text\n"}[damage])
    result = cli("data", "stats", sixray, "--format", "sixray", "--verify")
    assert_clean_error(result, "N0000003.jpg")
    result = cli("data", "stats", sixray, "--format", "sixray", "--verify", "--skip-bad", "--json")
    assert result.code == 0 and json.loads(result.out)["skipped_records"] == 1


def test_verify_finds_what_headers_miss_in_coco(cli, coco) -> None:
    path, images, _ = coco
    data = (images / "s1.png").read_bytes()
    (images / "s1.png").write_bytes(data[: len(data) - 40])
    assert cli("data", "stats", path, "--format", "coco", "--images", images).code == 0  # the header is intact
    assert_clean_error(cli("data", "stats", path, "--format", "coco", "--images", images, "--verify"), "s1.png")


@pytest.fixture(scope="module")
def detector_file(tmp_path_factory) -> Path:
    return tiny_detector(tmp_path_factory.mktemp("model") / "model.pt")


def test_detect_skips_unreadable_images_and_keeps_the_rest(cli, coco, detector_file: Path, tmp_path: Path,
                                                           caplog) -> None:
    _, images, _ = coco
    (images / "broken.png").write_bytes(b"not an image")
    good = (images / "s2.png").read_bytes()
    (images / "s2.png").write_bytes(good[: len(good) // 2])  # header fine, pixels cut
    out = tmp_path / "preds.json"
    assert_clean_error(cli("detect", detector_file, images, "--out", out, "--device", "cpu"), "broken.png")
    assert not out.exists()
    with caplog.at_level(logging.WARNING, logger="segloc"):
        result = cli("detect", detector_file, images, "--out", out, "--device", "cpu", "--skip-bad")
    assert result.code == 0, result.err
    assert sorted(Path(r["file"]).name for r in json.loads(out.read_text())) == ["s0.png", "s1.png"]
    assert "skipped 2 bad record(s)" in caplog.text
