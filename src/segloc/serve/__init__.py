"""``segloc serve``: a local web viewer of a detector (boxes, masks, scores), a CHR classifier (class
scores, CAMs) and a pretraining run's synthesised pairs, with a JSON API for scripts.

The names below load on first use, so that ``segloc --help`` does not import torch."""
from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {"make_server": "segloc.serve.server", "find_sources": "segloc.serve.sources"}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
