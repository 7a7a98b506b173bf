"""Dataset loaders for the real release formats (COCO / PIDray, SIXray) and the box formats (VOC, YOLO)."""

from segloc.data.coco import CocoDataset, ImageRecord, Instance, load_coco
from segloc.data.convert import convert_labels, sixray_to_coco
from segloc.data.formats import LABEL_FORMATS, detect_format, load_annotations
from segloc.data.images import image_size, read_rgb
from segloc.data.masks import decode_segmentation, encode_mask
from segloc.data.pidray import TEST_SPLITS, find_pidray_splits, load_pidray
from segloc.data.sixray import (
    SIXRAY_ALL_CLASSES,
    SIXRAY_CLASSES,
    LabelTable,
    SixrayRoot,
    VocAnnotation,
    build_subsets,
    read_label_csv,
    read_voc_xml,
    write_subsets,
)
from segloc.data.sixray_det import SIXRAY_DET, has_sixray_det, load_sixray_det, sixray_det_split
from segloc.data.stats import dataset_stats
from segloc.data.voc import load_voc
from segloc.data.yolo import load_yolo

__all__ = [
    "CocoDataset",
    "ImageRecord",
    "Instance",
    "decode_segmentation",
    "encode_mask",
    "load_coco",
    "convert_labels",
    "sixray_to_coco",
    "LABEL_FORMATS",
    "detect_format",
    "load_annotations",
    "load_voc",
    "load_yolo",
    "image_size",
    "read_rgb",
    "TEST_SPLITS",
    "SIXRAY_DET",
    "has_sixray_det",
    "load_sixray_det",
    "sixray_det_split",
    "find_pidray_splits",
    "load_pidray",
    "SIXRAY_ALL_CLASSES",
    "SIXRAY_CLASSES",
    "LabelTable",
    "SixrayRoot",
    "VocAnnotation",
    "build_subsets",
    "read_label_csv",
    "read_voc_xml",
    "write_subsets",
    "dataset_stats",
]
