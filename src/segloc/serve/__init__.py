"""``segloc serve``: a local web viewer of a detector (boxes, masks, scores), a CHR classifier (class
scores, CAMs) and a pretraining run's synthesised pairs, with a JSON API for scripts.

The names below load on first use, so that ``segloc --help`` does not import torch."""

from __future__ import annotations

from segloc.lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {".server": ("make_server",), ".sources": ("find_sources",)})
