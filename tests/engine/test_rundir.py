"""Run folders: marker, lock, overwrite only of segloc's own folders, failed starts, resume config rule."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest
import yaml

from segloc.engine import atomic_save, check_resumed_config, open_run_dir
from segloc.engine.rundir import LOCK, MARKER
from segloc.errors import ConfigError, SeglocError


def _started_run(path: Path) -> Path:
    """A run folder as a trainer leaves it after its first checkpoint."""
    with open_run_dir(path) as run:
        (run / "config.yaml").write_text("a: 1\n")
        atomic_save({"step": 1}, run / "checkpoints" / "step_1.pt")
    return path


def test_fresh_folder_is_marked(tmp_path: Path) -> None:
    with open_run_dir(tmp_path / "run") as run:
        assert (run / MARKER).is_file()


def test_overwrite_refuses_a_folder_segloc_did_not_make(tmp_path: Path) -> None:
    user = tmp_path / "thesis"
    user.mkdir()
    (user / "chapter1.tex").write_text("years of work")
    for options in ({}, {"overwrite": True}, {"resume": True}):
        with pytest.raises(SeglocError, match="did not create"), open_run_dir(user, **options):
            pass
    assert (user / "chapter1.tex").read_text() == "years of work"
    assert sorted(p.name for p in user.iterdir()) == ["chapter1.tex"]


def test_run_with_checkpoint_needs_resume_or_overwrite(tmp_path: Path) -> None:
    run = _started_run(tmp_path / "run")
    (run / "notes.txt").write_text("kept on resume")
    with pytest.raises(SeglocError, match="--resume"), open_run_dir(run):
        pass
    with open_run_dir(run, resume=True):
        assert (run / "notes.txt").is_file() and (run / "checkpoints" / "step_1.pt").is_file()
    with open_run_dir(run, overwrite=True):
        assert sorted(p.name for p in run.iterdir()) == sorted([LOCK, MARKER])


def test_failed_start_is_not_a_run(tmp_path: Path) -> None:
    with open_run_dir(tmp_path / "run") as run:
        (run / "config.yaml").write_text("a: 1\n")
        (run / "tb").mkdir()
    with open_run_dir(run) as again:  # no --resume / --overwrite needed
        assert not (again / "config.yaml").exists() and not (again / "tb").exists()


def test_older_run_folder_is_adopted_by_resume_only(tmp_path: Path) -> None:
    run = _started_run(tmp_path / "run")
    (run / MARKER).unlink()
    with pytest.raises(SeglocError, match="did not create"), open_run_dir(run, overwrite=True):
        pass
    with open_run_dir(run, resume=True):
        assert (run / MARKER).is_file()


def test_stale_temporaries_are_removed_on_resume(tmp_path: Path) -> None:
    run = _started_run(tmp_path / "run")
    stale = run / "checkpoints" / ".step_2.pt.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    with open_run_dir(run, resume=True):
        assert not stale.exists()


def _hold(path: str, ready, release) -> None:
    with open_run_dir(path, resume=True):
        ready.set()
        release.wait(30)


def test_second_run_in_a_locked_folder_fails(tmp_path: Path) -> None:
    run = _started_run(tmp_path / "run")
    ctx = mp.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(run), ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        with pytest.raises(SeglocError, match=rf"in use by another segloc process \(pid {holder.pid}\)"):
            with open_run_dir(run, resume=True):
                pass
    finally:
        release.set()
        holder.join(30)
    with open_run_dir(run, resume=True):  # the lock went with the process
        pass


def test_resume_with_another_config_names_the_keys(tmp_path: Path) -> None:
    run = _started_run(tmp_path / "run")
    saved = {"train": {"steps": 10, "lr": 0.1}, "method": "segloc"}
    (run / "config.yaml").write_text(yaml.safe_dump(saved))
    check_resumed_config(run, saved)
    with pytest.raises(ConfigError, match=r"train\.steps \(10 -> 20\)") as err:
        check_resumed_config(run, {"train": {"steps": 20, "lr": 0.1}, "method": "segloc"})
    assert "lr" not in str(err.value)


def test_resume_may_change_threads_workers_and_logging(tmp_path: Path) -> None:
    run = _started_run(tmp_path / "run")
    saved = {"train": {"steps": 10, "threads": 1, "log_every": 20}, "data": {"workers": 2, "root": "a"}}
    (run / "config.yaml").write_text(yaml.safe_dump(saved))
    changed = {"train": {"steps": 10, "threads": 2, "log_every": 5}, "data": {"workers": 0, "root": "a"}}
    check_resumed_config(run, changed)
    with pytest.raises(ConfigError, match=r"data\.root \('a' -> 'b'\)"):
        check_resumed_config(run, {"train": {"steps": 10, "threads": 2}, "data": {"workers": 0, "root": "b"}})
