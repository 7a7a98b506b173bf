"""Dataset loaders for the real release formats: COCO / PIDray and SIXray."""
from segloc.data.coco import CocoDataset, ImageRecord, Instance, decode_segmentation, load_coco
from segloc.data.convert import sixray_to_coco
from segloc.data.images import image_size, read_rgb
from segloc.data.pidray import TEST_SPLITS, find_pidray_splits, load_pidray
from segloc.data.sixray import (SIXRAY_ALL_CLASSES, SIXRAY_CLASSES, LabelTable, SixrayRoot, VocAnnotation,
                                build_subsets, read_label_csv, read_voc_xml, write_subsets)
from segloc.data.stats import dataset_stats

__all__ = [
    "CocoDataset", "ImageRecord", "Instance", "decode_segmentation", "load_coco", "sixray_to_coco",
    "image_size", "read_rgb", "TEST_SPLITS", "find_pidray_splits", "load_pidray",
    "SIXRAY_ALL_CLASSES", "SIXRAY_CLASSES", "LabelTable", "SixrayRoot", "VocAnnotation",
    "build_subsets", "read_label_csv", "read_voc_xml", "write_subsets", "dataset_stats",
]
