"""The README's "pipeline, command by command" block, run verbatim in an empty folder.

Each line goes through a `segloc` on PATH that runs this checkout's CLI with the README's arguments
and, appended after them, options that only shrink sizes (steps, pairs, images), so the block runs in
about two minutes and can never drift from the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## The pipeline, command by command"
CHR_TRAIN = ["train.steps=2", "train.batch_size=4", "data.image_size=64", "data.resize=72", "data.workers=0"]


def smaller(tiny: dict[str, list[str]]) -> dict[str, list[str]]:
    """Arguments the shim appends to each README command so that the block runs in a few minutes."""
    sets = {
        "pretrain": tiny["pretrain"],
        "finetune": [*tiny["finetune"], "eval.batch_size=4", "eval.splits=[easy]"],
        "chr train": CHR_TRAIN,
    }
    return {
        "generate": ["--workers", "2"],
        "synthesize": ["--pairs", "4", "--workers", "1"],
        "probe": ["--max-images", "6", "--width", "96", "--k", "3"],
        **{command: [arg for item in items for arg in ("--set", item)] for command, items in sets.items()},
    }


SHIM = """#!{python}
import sys
from segloc.cli.main import main
SMALLER = {smaller!r}
if __name__ == "__main__":  # worker processes (spawn) import this file again
    args = sys.argv[1:]
    key = " ".join(args[:2]) if args[:1] == ["chr"] else args[0]
    sys.argv = ["segloc", *args, *SMALLER.get(key, [])]
    main()
"""


def pipeline_block() -> str:
    """The first bash block under the pipeline heading of the README."""
    section = README.read_text(encoding="utf-8").split(HEADING, 1)[1]
    return section.split("```bash\n", 1)[1].split("```", 1)[0]


@pytest.mark.slow
def test_readme_pipeline_block_runs_verbatim(tmp_path, tiny_overrides):
    block = pipeline_block()
    commands = [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    assert len(commands) >= 10 and all(c.startswith("segloc ") for c in commands), commands
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "segloc"
    shim.write_text(SHIM.format(python=sys.executable, smaller=smaller(tiny_overrides)), encoding="utf-8")
    shim.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "OMP_NUM_THREADS": "1"}
    run = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = run.communicate(timeout=540)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)  # the whole block, segloc's workers included
        out, err = run.communicate()
    assert run.returncode == 0, f"{out[-3000:]}\n{err[-5000:]}"
    for made in (
        "data/generated/sixray/JPEGImage/regions.json",
        "data/pairs",
        "pairs.png",
        "runs/pre-segloc/backbone.safetensors",
        "runs/ft-segloc/model_final.pt",
        "runs/ft-segloc/eval/report.md",
        "runs/table1/table1.md",
        "preds.json",
        "overlays",
        "runs/chr10/model_final.pt",
        "runs/chr10/log.txt",
    ):
        assert (work / made).exists(), made
    assert (work / "runs" / "pre-segloc" / "log.txt").read_text(encoding="utf-8").strip()
