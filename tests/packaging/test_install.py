"""A non-editable install (a built wheel in a fresh venv, run outside the checkout) finds its configs and
runs `segloc demo` at a tiny size. The venv reuses this interpreter's packages (torch is never downloaded)."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "src", "configs")
TINY_DEMO = [
    "data.generate.preset=tiny",
    "pretrain.methods=[segloc]",
    "finetune.inits=[segloc]",
    "probe.enabled=false",
    "report.gallery_pairs=2",
    "report.detection_images=1",
]


def _run(args: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding segloc installed from a wheel built from a copy of this checkout; returns its bin/."""
    tmp = tmp_path_factory.mktemp("install")
    copy = tmp / "checkout"
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            copy.mkdir(exist_ok=True)
            shutil.copy2(source, copy / name)
    pip = [sys.executable, "-m", "pip"]
    _run(
        [*pip, "wheel", str(copy), "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(tmp / "wheel")],
        tmp,
    )
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp)
    purelib = Path(
        _run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp
        ).stdout.strip()
    )
    shared = dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"]])
    (purelib / "_segloc_test_shared.pth").write_text("\n".join(shared) + "\n", encoding="utf-8")
    wheel = next((tmp / "wheel").glob("segloc-*.whl"))
    _run([*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps", "--no-index", "-q", str(wheel)], tmp)
    return venv / "bin"


def _outside_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return {**env, "OMP_NUM_THREADS": "1"}


def test_wheel_ships_configs_and_finds_them_outside_the_checkout(installed, tmp_path):
    where = _run(
        [
            str(installed / "python"),
            "-c",
            "import segloc, segloc.config as c; "
            "print(segloc.__file__); print(c.find_config('demo')); "
            "print(c.find_config('configs/pretrain/segloc-cpu-demo.yaml', 'pretrain'))",
        ],
        tmp_path,
        _outside_env(),
    ).stdout.splitlines()
    package = Path(where[0]).parent
    assert ROOT not in package.parents, where
    assert all(package / "configs" in Path(line).parents for line in where[1:]), where
    own = tmp_path / "mine.yaml"
    own.write_text("name: mine\n", encoding="utf-8")
    found = _run(
        [str(installed / "python"), "-c", f"import segloc.config as c; print(c.find_config({str(own)!r}))"],
        tmp_path,
        _outside_env(),
    ).stdout.strip()
    assert Path(found) == own


@pytest.mark.slow
def test_installed_segloc_demo_runs_at_a_tiny_size(installed, tmp_path, tiny_overrides):
    tiny = [*TINY_DEMO, *(f"{stage}.overrides={tiny_overrides[stage]}" for stage in ("pretrain", "finetune"))]
    sets = [arg for item in tiny for arg in ("--set", item)]
    _run([str(installed / "segloc"), "demo", "--out", "runs/demo", *sets], tmp_path, _outside_env())
    report = tmp_path / "runs" / "demo" / "report.md"
    assert report.is_file() and "| segloc |" in report.read_text(encoding="utf-8")
