"""Per-class average precision for image-level multi-label classification (PASCAL VOC style).

Labels follow the VOC/SIXray convention: 1 present, -1 absent, 0 difficult (ignored: the image is
removed from that class's ranking). Three ways to turn a ranking into one number:

- ``"reference"`` (default): the mean of the precision at the rank of every positive, i.e. the
  non-interpolated area under the precision/recall curve. This is what the SIXray/CHR code
  (``AveragePrecisionMeter`` inherited from wildcat.pytorch) computes for the paper's Table 2.
- ``"voc07"``: the VOC2007 11-point interpolated AP (recall 0, 0.1, ..., 1).
- ``"area"``: the VOC2010+ area under the interpolated (monotone) precision envelope.

Ties in score are ranked in input order (stable sort), as a descending stable sort would.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

AP_METHODS = ("reference", "voc07", "area")


def _ranked_hits(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """1/0 hit vector of the non-difficult entries, ranked by descending score."""
    keep = labels != 0
    scores, labels = scores[keep], labels[keep]
    order = np.argsort(-scores, kind="stable")
    return (labels[order] > 0).astype(np.float64)


def average_precision(scores: Sequence[float], labels: Sequence[int], method: str = "reference") -> float:
    """AP of one class from scores and 1/-1/0 labels; NaN when the class has no positive."""
    if method not in AP_METHODS:
        raise ValueError(f"unknown AP method {method!r}; expected one of {', '.join(AP_METHODS)}")
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = np.asarray(labels).reshape(-1)
    if scores.shape != labels.shape:
        raise ValueError(f"scores {scores.shape} and labels {labels.shape} differ in length")
    if not np.isin(labels, (-1, 0, 1)).all():
        raise ValueError("labels must be 1 (present), -1 (absent) or 0 (difficult)")
    hits = _ranked_hits(scores, labels)
    n_pos = hits.sum()
    if n_pos == 0:
        return float("nan")
    true_pos = np.cumsum(hits)
    precision = true_pos / np.arange(1, len(hits) + 1)
    recall = true_pos / n_pos
    if method == "reference":
        return float((precision * hits).sum() / n_pos)
    if method == "voc07":
        reached = [recall >= t - 1e-9 for t in np.linspace(0, 1, 11)]  # slack: 3/10 counts for t = 0.3
        points = [precision[r].max() if r.any() else 0.0 for r in reached]
        return float(np.mean(points))
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    recall_steps = np.diff(np.concatenate([[0.0], recall]))
    return float((envelope * recall_steps).sum())


def mean_average_precision(
    scores: np.ndarray, labels: np.ndarray, method: str = "reference"
) -> tuple[list[float], float]:
    """Per-class AP of (N, C) scores against (N, C) 1/-1/0 labels, and their mean.

    Classes without any positive get NaN and are left out of the mean (the authors' meter would
    count them as AP 0, which only matters on tiny test sets).
    """
    scores, labels = np.asarray(scores), np.asarray(labels)
    if scores.ndim != 2 or scores.shape != labels.shape:
        raise ValueError(f"scores {scores.shape} and labels {labels.shape} must both be (N, C)")
    per_class = [average_precision(scores[:, c], labels[:, c], method) for c in range(scores.shape[1])]
    valid = [ap for ap in per_class if not np.isnan(ap)]
    return per_class, float(np.mean(valid)) if valid else float("nan")
