"""Atomic file writes: a temporary file beside the target, synced, then renamed over it, so a crash
or a full disk leaves the old file or the whole new one, never a truncated one."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from segloc.errors import SeglocError

NEW_FILE_MODE = 0o644  # what a plain open() gives under the usual umask; mkstemp alone gives 0o600

@contextmanager
def _atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """A temporary file beside ``path`` that replaces it only once fully written and synced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.is_file() else NEW_FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Write ``path`` atomically; a full disk or unwritable folder becomes one :class:`SeglocError`."""
    try:
        with _atomic_file(path) as f:
            write(f)
    except OSError as exc:
        raise SeglocError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    except RuntimeError as exc:  # torch.save reports a failed write (e.g. a full disk) this way
        raise SeglocError(f"{path}: cannot write ({str(exc).splitlines()[0]})") from exc
    return path


def atomic_write_bytes(data: bytes, path: Path | str) -> Path:
    """Write a file atomically: readers see the old file or the whole new one, never a truncated one."""
    return write_atomically(Path(path), lambda f: f.write(data))


def atomic_write_text(text: str, path: Path | str) -> Path:
    """:func:`atomic_write_bytes` of UTF-8 text."""
    return atomic_write_bytes(text.encode("utf-8"), path)
