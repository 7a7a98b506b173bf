"""Run folders: marked as segloc's, locked while a run uses them, never deleted unless segloc made them.

Life cycle: the caller validates its config and data first, then :func:`open_run_dir` takes an
exclusive lock on the folder for the run's lifetime and decides what the folder may become:

* empty or absent: a fresh run (the folder gets the ``.segloc-run`` marker);
* a segloc run without a checkpoint (a start that failed): not a run yet, cleared and restarted;
* a segloc run with a checkpoint: continued with ``resume``, cleared with ``overwrite``, else an error;
* anything else (files segloc did not create): refused, whatever the options. A run folder of a
  segloc older than the marker (``config.yaml`` and a checkpoint) is adopted by ``resume`` only.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from segloc.config import changed_keys
from segloc.errors import ConfigError, SeglocError, log

MARKER = ".segloc-run"
LOCK = ".segloc-lock"
CHECKPOINT_DIR = "checkpoints"
# How a run goes on (CPU threads, loader workers, logging), not what it computes: a resume may change them.
RUNTIME_KEYS = (
    ("train", "threads"),
    ("train", "progress"),
    ("train", "tensorboard"),
    ("train", "log_every"),
    ("train", "checkpoint_every"),
    ("train", "keep_checkpoints"),
    ("data", "workers"),
)


def is_run_dir(path: Path) -> bool:
    """True when ``path`` carries segloc's run-folder marker."""
    return (path / MARKER).is_file()


def _is_legacy_run(path: Path) -> bool:
    """A run folder written before the marker existed: its config.yaml and a checkpoint."""
    return (path / "config.yaml").is_file() and has_checkpoint(path)


def has_checkpoint(path: Path) -> bool:
    """True when the run folder holds a checkpoint or a model file: a run worth keeping."""
    return any(path.glob("*.pt")) or any((path / CHECKPOINT_DIR).glob("*.pt"))


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete the ``.*.tmp`` files a killed atomic write left in the run folder; return them."""
    stale = [p for p in (*path.glob(".*.tmp"), *(path / CHECKPOINT_DIR).glob(".*.tmp")) if p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    if stale:
        log.warning(
            "%s: removed %d unfinished file(s) of an interrupted save (e.g. %s)", path, len(stale), stale[0].name
        )
    return stale


def _contents(path: Path) -> list[Path]:
    return [p for p in path.iterdir() if p.name != LOCK] if path.is_dir() else []


def _clear(path: Path) -> None:
    """Delete everything in the run folder except the lock this process holds."""
    for p in _contents(path):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def _check_not_foreign(path: Path, resume: bool) -> None:
    """Refuse a non-empty folder that is not a segloc run, before anything is written to it."""
    if path.is_file():
        raise SeglocError(f"{path}: is a file, not a run folder")
    if _contents(path) and not is_run_dir(path) and not (resume and _is_legacy_run(path)):
        raise SeglocError(
            f"{path}: the folder holds files segloc did not create; refusing to use or delete it "
            "(choose a new or empty --out folder)"
        )


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the run folder (released when the process ends, even on a kill)."""
    fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            raise SeglocError(
                f"{path}: run folder is in use by another segloc process (pid {holder}); "
                "wait for it to end or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)


def _prepare(path: Path, resume: bool, overwrite: bool) -> None:
    """Decide, under the lock, whether the folder starts fresh, continues, or is refused."""
    if _contents(path):
        _check_not_foreign(path, resume)
        if not has_checkpoint(path):
            log.info("%s: run folder holds no checkpoint (a start that failed); starting it afresh", path)
            _clear(path)
        elif overwrite:
            log.warning("%s: --overwrite: deleting the previous run", path)
            _clear(path)
        elif resume:
            remove_stale_temporaries(path)
        else:
            raise SeglocError(
                f"{path}: run folder holds a run; pass --resume to continue it or --overwrite to replace it"
            )
    marker = path / MARKER
    if not marker.is_file():
        marker.write_text(json.dumps({"created": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n", encoding="utf-8")


@contextmanager
def open_run_dir(path: Path | str, resume: bool = False, overwrite: bool = False) -> Iterator[Path]:
    """Lock run folder ``path`` for the ``with`` block and prepare it (module docstring's rules).

    Call it after the config and data are validated, so a bad start never touches the folder.
    """
    path = Path(path)
    if path.exists():
        _check_not_foreign(path, resume)
    path.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        _prepare(path, resume, overwrite)
        yield path


def _computed(config: dict) -> dict:
    """``config`` without its :data:`RUNTIME_KEYS`."""
    out = {key: dict(value) if isinstance(value, dict) else value for key, value in config.items()}
    for section, key in RUNTIME_KEYS:
        if isinstance(out.get(section), dict):
            out[section].pop(key, None)
    return out


def check_resumed_config(path: Path | str, config: dict) -> None:
    """Refuse to resume run folder ``path`` with a config that computes something else than the one it
    started with; the :data:`RUNTIME_KEYS` (threads, workers, logging) may change."""
    saved = Path(path) / "config.yaml"
    if not saved.is_file() or not has_checkpoint(Path(path)):
        return
    try:
        before = yaml.safe_load(saved.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{saved}: not valid YAML: {exc}") from exc
    diff = changed_keys(_computed(before if isinstance(before, dict) else {}), _computed(config))
    if diff:
        shown = ", ".join(diff[:8]) + (f" (+{len(diff) - 8} more)" if len(diff) > 8 else "")
        raise ConfigError(
            f"{saved}: --resume with a different configuration ({shown}); resume with the "
            "saved config (--set may change only threads, workers and logging) or start a new run"
        )
