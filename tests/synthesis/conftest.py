"""Fixtures of the synthesis tests: small hand-drawn scans and a labelled COCO set.

Hand-drawn data has exactly known bags and objects, for the targeted and bad-input tests; the
generated X-ray data (built once per session) checks the pipeline on realistic scans.
"""
from __future__ import annotations

import json

import pytest
from synthesis_fixtures import Generated, HandMade, make_handmade


@pytest.fixture(scope="session")
def handmade(tmp_path_factory) -> HandMade:
    return make_handmade(tmp_path_factory.mktemp("handmade"))


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Generated:
    generator = pytest.importorskip("segloc.generator", reason="the X-ray generator is not available")
    if not hasattr(generator, "generate"):
        pytest.skip("segloc.generator.generate is not available yet")
    root = tmp_path_factory.mktemp("generated")
    generator.generate(root, preset="tiny", seed=0, workers=2)
    meta = json.loads((root / "generator_meta.json").read_text())
    bags = {name: tuple(box) for name, box in meta["bags"].items() if name.startswith("sixray/JPEGImage/N")}
    return Generated(root, bags)
