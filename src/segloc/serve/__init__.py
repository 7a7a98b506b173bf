"""``segloc serve``: a local web viewer of a detector (boxes, masks, scores), a CHR classifier (class
scores, CAMs) and a pretraining run's synthesised pairs, with a JSON API for scripts."""
from segloc.serve.server import make_server
from segloc.serve.sources import find_sources

__all__ = ["find_sources", "make_server"]
