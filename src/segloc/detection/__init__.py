"""Downstream detection and instance segmentation: (Cascade) Mask R-CNN on segloc backbones,
fine-tuning with the paper's recipe, COCO evaluation and inference."""

from segloc.detection.builders import build_detector, cascade_maskrcnn, cascade_rcnn, fasterrcnn, maskrcnn
from segloc.detection.cascade import AgnosticBoxPredictor, CascadeRoIHeads, CascadeStage
from segloc.detection.config import FinetuneConfig, ModelConfig
from segloc.detection.data import CategoryMap, DetectionDataset, ImageDataset
from segloc.detection.evaluate import evaluate, evaluate_detector
from segloc.detection.inference import Detector, detect, detect_files, load_detector, predict
from segloc.detection.init import InitResult, initialize_backbone
from segloc.detection.train import finetune

__all__ = [
    "AgnosticBoxPredictor",
    "CascadeRoIHeads",
    "CascadeStage",
    "CategoryMap",
    "DetectionDataset",
    "Detector",
    "FinetuneConfig",
    "ImageDataset",
    "InitResult",
    "ModelConfig",
    "build_detector",
    "cascade_maskrcnn",
    "cascade_rcnn",
    "detect",
    "detect_files",
    "evaluate",
    "evaluate_detector",
    "fasterrcnn",
    "finetune",
    "initialize_backbone",
    "load_detector",
    "maskrcnn",
    "predict",
]
