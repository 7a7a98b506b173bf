"""generate(): determinism across worker counts, refusing to overwrite, preview, models, CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from segloc.cli.generate import generate_cmd
from segloc.errors import ConfigError
from segloc.generator import OutputExistsError, ScanPlan, generate, render_scan
from segloc.generator.geometry import Pose
from segloc.generator.raster import Canvas
from segloc.generator.scan import annotate, centred
from segloc.generator.shapes import MODELS


def digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files_for_any_worker_count(tmp_path, micro):
    generate(tmp_path / "a", micro, seed=3, workers=1)
    generate(tmp_path / "b", micro, seed=3, workers=2)
    a, b = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert a == b and len(a) > 40


def test_render_scan_is_a_function_of_its_rng():
    plan = ScanPlan("pidray", ("Gun", "Knife"), hidden=True)
    one = render_scan(plan, np.random.default_rng([1, 2]))
    two = render_scan(plan, np.random.default_rng([1, 2]))
    other = render_scan(plan, np.random.default_rng([1, 3]))
    assert np.array_equal(one.image, two.image) and one.bag_box == two.bag_box
    assert [o.polygons for o in one.objects] == [o.polygons for o in two.objects]
    assert one.image.shape != other.image.shape or not np.array_equal(one.image, other.image)


def test_refuses_to_overwrite_and_keeps_user_files(tmp_path, micro):
    generate(tmp_path, micro, seed=0)
    with pytest.raises(OutputExistsError, match="overwrite"):
        generate(tmp_path, micro, seed=1)
    notes = tmp_path / "pidray" / "notes.txt"
    notes.write_text("mine")
    stale = tmp_path / "pidray" / "train" / "xray_09999.png"
    stale.write_bytes(b"left over from a larger run")
    generate(tmp_path, micro, seed=1, overwrite=True)
    assert notes.read_text() == "mine" and not stale.exists()
    assert json.loads((tmp_path / "generator_meta.json").read_text())["seed"] == 1


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown generator preset 'huge'"):
        generate(tmp_path, "huge")
    with pytest.raises(ConfigError, match="workers"):
        generate(tmp_path, "tiny", workers=0)
    with pytest.raises(ConfigError, match="seed"):
        generate(tmp_path, "tiny", seed=-1)
    assert not (tmp_path / "pidray").exists()


def test_preview_is_a_contact_sheet(tiny):
    import cv2

    out, _ = tiny
    sheet = cv2.imread(str(out / "preview.png"))
    assert sheet is not None and sheet.shape == (3 * 257 + 1, 4 * 321 + 1, 3)
    assert (sheet[..., 2] > 200).sum() > 0  # red-ish box/label pixels (BGR)


@pytest.mark.parametrize("class_name", list(MODELS))
def test_every_model_of_every_class_renders_an_annotated_item(class_name):
    for model in MODELS[class_name]:
        parts, half_len, _ = centred(model(np.random.default_rng(5)))
        canvas = Canvas(300, 300)
        mask = np.zeros((300, 300), np.uint8)
        canvas.draw(parts, Pose(min(1.0, 120 / half_len), 0.7, True, 150, 150), mask)
        polygons, bbox, area = annotate(mask)
        assert polygons and area > 30, model.__name__
        assert canvas.thickness.sum() > 0


def test_cli_help_documents_presets_and_rejects_bad_preset(tmp_path):
    app = typer.Typer()
    app.command("generate")(generate_cmd)
    runner = CliRunner()
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for text in ("--preset", "tiny", "48/12/12/12", "small", "medium", "--workers", "--overwrite", "--preview"):
        assert text in result.output
    bad = runner.invoke(app, ["--out", str(tmp_path), "--preset", "huge"])
    assert bad.exit_code != 0 and isinstance(bad.exception, ConfigError)


def test_polygons_rasterise_back_to_exactly_the_mask():
    """Outlines of thin and thick shapes decode (pycocotools) to the very same pixels, holes filled."""
    import cv2
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(0)
    for _ in range(50):
        mask = np.zeros((90, 120), np.uint8)
        for _ in range(3):
            pts = rng.uniform(5, 85, (int(rng.integers(3, 7)), 2)).astype(np.int32)
            if rng.random() < 0.5:
                cv2.polylines(mask, [pts], False, 1, int(rng.integers(1, 3)))
            else:
                cv2.fillPoly(mask, [pts], 1)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        filled = np.zeros_like(mask)
        cv2.drawContours(filled, contours, -1, 1, -1)
        polygons, bbox, area = annotate(mask)
        decoded = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygons, 90, 120)))
        assert np.array_equal(decoded, filled)
        ys, xs = np.nonzero(filled)
        assert bbox == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1] and area == filled.sum()
