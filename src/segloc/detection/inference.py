"""Load a fine-tuned detector (run folder or checkpoint) and run it on images or a dataset."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader
from torchvision.models.detection.generalized_rcnn import GeneralizedRCNN
from tqdm import tqdm

from segloc.data import image_size, read_rgb
from segloc.data.images import IMAGE_SUFFIXES
from segloc.detection.builders import build_detector
from segloc.detection.config import ModelConfig
from segloc.detection.data import CategoryMap, ImageDataset, collate
from segloc.detection.draw import draw_detections
from segloc.detection.forward import prepare_image, run_detector
from segloc.detection.runtime import ExportedDetector, is_export, load_export
from segloc.engine import atomic_write_text, load_checkpoint, resolve_device
from segloc.engine.runfiles import run_model_file
from segloc.errors import BadRecords, DatasetError, SeglocError
from segloc.evaluation.coco_eval import to_coco_results


@dataclass
class Detector:
    """A detector with what it needs to be used on its own: categories, mask flag, config, init name."""

    model: GeneralizedRCNN
    categories: CategoryMap
    masks: bool
    model_config: ModelConfig
    init_name: str
    device: torch.device

    @property
    def min_score(self) -> float:
        """The lowest score the detector reports (its RoI heads' score threshold)."""
        return self.model_config.score_thresh

    def infer(self, images: list[np.ndarray], min_score: float = 0.0) -> list[dict[str, torch.Tensor]]:
        """Detections of RGB scans in one batch; only those scoring above ``min_score`` get masks."""
        self.model.eval()
        side = self.model.transform.max_size
        prepared = [prepare_image(torch.from_numpy(np.ascontiguousarray(im)), side).to(self.device) for im in images]
        with score_floor(self.model, min_score):
            return run_detector(self.model, prepared, [im.shape[:2] for im in images])


@contextmanager
def score_floor(model: GeneralizedRCNN, score: float) -> Iterator[None]:
    """Raise the RoI heads' score threshold to ``score`` for a while: detections below it are dropped
    before NMS and the mask head, which then runs on fewer boxes."""
    heads = model.roi_heads
    before = heads.score_thresh
    heads.score_thresh = max(before, score)
    try:
        yield
    finally:
        heads.score_thresh = before


def detector_state(
    model: GeneralizedRCNN, categories: CategoryMap, masks: bool, model_config: ModelConfig, init_name: str
) -> dict:
    """What a model file holds (tensors and plain values only, so it loads with weights_only=True)."""
    return {
        "model": model.state_dict(),
        "categories": categories.to_dict(),
        "masks": masks,
        "model_config": model_config.model_dump(mode="json"),
        "init_name": init_name,
    }


def load_detector(path: Path | str, device: str | torch.device = "cpu") -> Detector:
    """Rebuild a detector from a model file / checkpoint / run folder, in eval mode on ``device``."""
    path = run_model_file(path)
    state = load_checkpoint(path)
    if "model_config" not in state or "model" not in state:
        raise SeglocError(f"{path}: not a segloc detector file (no model / model_config)")
    cfg = ModelConfig.model_validate(state["model_config"])
    categories = CategoryMap.from_dict(state["categories"])
    model = build_detector(cfg, categories.num_classes, state["masks"])
    model.load_state_dict(state["model"])
    device = torch.device(device)
    model.to(device).eval()
    if device.type == "cpu":
        model.to(memory_format=torch.channels_last)  # oneDNN's CPU convolutions run faster on NHWC
    return Detector(model, categories, state["masks"], cfg, state.get("init_name", "unknown"), device)


def predict(
    detector: Detector, dataset: ImageDataset, batch_size: int = 2, workers: int = 0, progress: bool = True
) -> list[dict]:
    """Run the detector over a dataset; return COCO result records (bbox, score, category_id, RLE).

    Scans are decoded and resized in the loader (``workers`` processes), batches cross to the device
    as small float images, and masks are pasted on the device.
    """
    detector.model.eval()
    dataset = ImageDataset(dataset.paths, dataset.ids, dataset.records, detector.model.transform.max_size)
    cuda = detector.device.type == "cuda"
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers, collate_fn=collate, pin_memory=cuda)
    results: list[dict] = []
    for images, sizes, ids in tqdm(loader, desc="inference", disable=not progress, leave=False):
        images = [im.to(detector.device, non_blocking=cuda) for im in images]
        for out, image_id in zip(run_detector(detector.model, images, sizes), ids):
            results.extend(to_coco_results(out, image_id, detector.categories.category))
    return results


def open_detector(path: Path | str, device: str | torch.device = "cpu") -> Detector | ExportedDetector:
    """A run folder / model file (on ``device``), or an exported ONNX / TorchScript file (on the CPU)."""
    return load_export(path) if is_export(path) else load_detector(path, device)


def detect(
    detector: Detector | ExportedDetector, images: list[Path | str | np.ndarray], score_thr: float = 0.5
) -> list[list[dict]]:
    """Detections per image above ``score_thr``: bbox xywh, score, category id and name, RLE mask."""
    found = []
    for image in images:
        rgb = read_rgb(image) if isinstance(image, (str, Path)) else image
        out = detector.infer([rgb], score_thr)[0]
        keep = out["scores"] >= score_thr
        out = {k: v[keep] for k, v in out.items()}
        records = to_coco_results(out, 0, detector.categories.category)
        for rec, label in zip(records, out["labels"].tolist()):
            del rec["image_id"]
            rec["category"] = detector.categories.name(label)
        found.append(records)
    return found


def expand_images(paths: list[Path | str]) -> list[Path]:
    """Image files given directly or found (non-recursively, sorted) in given folders."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES))
        elif p.is_file():
            found.append(p)
        else:
            raise SeglocError(f"{p}: no such image file or folder")
    if not found:
        raise SeglocError(f"no images found in {', '.join(map(str, paths))}")
    return found


def detect_files(
    model: Path | str,
    images: list[Path | str],
    out: Path | str,
    draw_dir: Path | str | None = None,
    score_thr: float = 0.5,
    device: str = "auto",
    skip_bad: bool = False,
) -> list[dict]:
    """Detect on image files, write ``[{"file", "detections"}]`` to ``out`` and overlays to ``draw_dir``.

    An unreadable image stops the run before any detection is made (headers are checked first)
    or, with ``skip_bad``, is left out with one warning giving the count; ``out`` is written atomically.
    """
    dev = resolve_device(device)
    files = expand_images(images)
    bad = BadRecords("detect", skip_bad)
    readable = []
    for path in files:
        try:
            image_size(path)
            readable.append(path)
        except DatasetError as exc:
            bad.report_error(exc)
    detector = open_detector(model, dev)
    records = []
    for path in tqdm(readable, desc="detect", leave=False):
        try:
            rgb = read_rgb(path)
        except DatasetError as exc:
            bad.report_error(exc)
            continue
        dets = detect(detector, [rgb], score_thr)[0]
        records.append({"file": str(path), "width": rgb.shape[1], "height": rgb.shape[0], "detections": dets})
        if draw_dir is not None:
            Path(draw_dir).mkdir(parents=True, exist_ok=True)
            overlay = draw_detections(rgb, dets)
            cv2.imwrite(str(Path(draw_dir) / f"{path.stem}.png"), cv2.cvtColor(overlay, cv2.COLOR_RGB2BGR))
    bad.warn_summary()
    atomic_write_text(json.dumps(records), out)
    return records
