"""What each JSON endpoint of ``segloc serve`` computes, independent of HTTP: the served parts, a scan's
detections (``segloc detect``'s records), its CHR class scores with CAM overlays."""
from __future__ import annotations

import base64

import cv2
import numpy as np

from segloc.classification.evaluate import classify_scan
from segloc.detection.draw import class_colour
from segloc.detection.inference import detect
from segloc.serve.sources import Sources
from segloc.serve.uploads import RequestError

CAM_SIDE = 512  # longer side of the CAM overlays sent to the page
CAM_ALPHA = 0.45


def info(sources: Sources, max_bytes: int, max_pixels: int) -> dict:
    """What the server shows: categories with their overlay colours, CHR classes, number of pairs, limits."""
    detector = sources.detector
    return {
        "detector": None if detector is None else {
            "categories": [{"id": i, "name": n, "colour": class_colour(i)}
                           for i, n in zip(detector.categories.ids, detector.categories.names)],
            "masks": detector.masks, "min_score": detector.min_score},
        "chr": None if sources.classifier is None else {"class_names": sources.classifier.class_names},
        "pairs": len(sources.gallery),
        "origins": sources.origins,
        "limits": {"max_bytes": max_bytes, "max_pixels": max_pixels},
    }


def parse_min_score(values: list[str] | None, floor: float) -> float:
    """The ``min_score`` query value (default: the detector's own threshold), checked to lie in [0, 1]."""
    if not values:
        return floor
    try:
        score = float(values[0])
    except ValueError:
        raise RequestError(400, f"min_score {values[0]!r} is not a number") from None
    if not 0.0 <= score <= 1.0:
        raise RequestError(400, f"min_score {score} is outside [0, 1]")
    return score


def detections(sources: Sources, scan: np.ndarray, min_score: list[str] | None = None) -> dict:
    """The scan's size and its detections scoring at least ``min_score`` (the query's values; default:
    the detector's own threshold): bbox xywh, score, category id and name, RLE mask."""
    if sources.detector is None:
        raise RequestError(404, "this server has no detector (give a fine-tuning run folder or a model file)")
    score = parse_min_score(min_score, sources.detector.min_score)
    return {"width": scan.shape[1], "height": scan.shape[0], "detections": detect(sources.detector, [scan], score)[0]}


def _png_data_url(rgb: np.ndarray) -> str:
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return "data:image/png;base64," + base64.b64encode(png.tobytes()).decode("ascii")


def cam_overlay(scan: np.ndarray, cam: np.ndarray) -> np.ndarray:
    """The scan with one class's CAM (min-max scaled, jet colours) blended over it, longer side CAM_SIDE."""
    scale = min(1.0, CAM_SIDE / max(scan.shape[:2]))
    size = (max(1, round(scan.shape[1] * scale)), max(1, round(scan.shape[0] * scale)))
    scan = cv2.resize(scan, size, interpolation=cv2.INTER_AREA)
    cam = cv2.resize(cam, size, interpolation=cv2.INTER_LINEAR)
    spread = float(cam.max() - cam.min())
    grey = np.uint8(255 * (cam - cam.min()) / spread) if spread > 0 else np.zeros(cam.shape, np.uint8)
    heat = cv2.cvtColor(cv2.applyColorMap(grey, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(scan, 1.0 - CAM_ALPHA, heat, CAM_ALPHA, 0.0)


def classification(sources: Sources, scan: np.ndarray) -> dict:
    """CHR class probabilities of the scan and, per class, its CAM overlay as a PNG data URL."""
    classifier = sources.classifier
    if classifier is None:
        raise RequestError(404, "this server has no CHR classifier (start it with --chr RUN)")
    probs, cams = classify_scan(classifier.model, scan, classifier.size)
    return {"class_names": classifier.class_names, "scores": [round(float(p), 5) for p in probs],
            "cams": {name: _png_data_url(cam_overlay(scan, cams[c])) for c, name in enumerate(classifier.class_names)}}
