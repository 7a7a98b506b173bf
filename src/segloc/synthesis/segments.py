"""Segment bank: the labelled objects of a COCO set, cut out by their masks, grouped by class.

Only small records are kept in memory (which image, which annotation); the pixels of a segment
(a tight RGB crop and its 0/1 mask) are cut on first use and kept in an LRU cache, so a bank
over 30k images costs a few MB until it is used. Box-only annotations become box-shaped
segments, optionally refined to the item's silhouette inside the box (``silhouette``).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segloc.data.coco import CocoDataset, ImageRecord, Instance, run_image_check
from segloc.data.formats import load_annotations
from segloc.data.images import read_rgb
from segloc.data.masks import decode_segmentation, rle_area, to_rle
from segloc.errors import DatasetError, log
from segloc.synthesis.region import mask_box
from segloc.synthesis.silhouette import silhouette


@dataclass(frozen=True)
class SegmentRef:
    """Where a segment comes from: indices into the COCO set's images and their instances."""

    record: int
    instance: int
    category_id: int


@dataclass(frozen=True)
class Segment:
    """A cut-out object: tight RGB crop (H, W, 3) uint8, mask (H, W) uint8 0/1, its class and origin."""

    image: np.ndarray
    mask: np.ndarray
    category_id: int
    source: str
    annotation_id: int


def segmentation_area(segmentation: list | dict, height: int, width: int) -> float:
    """Area in pixels of polygons (shoelace) or an RLE, without rasterising the mask."""
    if isinstance(segmentation, list):
        total = 0.0
        for poly in segmentation:
            xs, ys = np.asarray(poly[0::2], float), np.asarray(poly[1::2], float)
            total += 0.5 * abs(float(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))))
        return total
    return rle_area(to_rle(segmentation, height, width))


class SegmentBank:
    """Per-class segments of a COCO set, with size filters, cut lazily and LRU-cached.

    ``min_size`` / ``max_size`` bound the longer side of an instance's box in pixels. Crowd
    annotations and empty masks are left out with one warning giving the count. Instances
    without a mask become their box (``refine_boxes``: the item's silhouette, the dense part of
    the box; the whole box where no plausible silhouette is found, counted in ``box_fallbacks``).
    """

    def __init__(
        self,
        coco: CocoDataset,
        min_size: int = 8,
        max_size: int | None = None,
        refine_boxes: bool = False,
        refine_threshold: int = 50,
        cache_size: int = 1024,
    ) -> None:
        self.coco = coco
        self.refine_boxes = refine_boxes
        self.refine_threshold = refine_threshold
        self.box_fallbacks = 0
        self.cache_size = cache_size
        self._cache: OrderedDict[int, Segment] = OrderedDict()
        self.refs: list[SegmentRef] = []
        skipped = defaultdict(int)
        for r, record in enumerate(coco.images):
            for k, inst in enumerate(record.instances):
                reason = _reject_reason(inst, record, min_size, max_size)
                if reason:
                    skipped[reason] += 1
                    continue
                self.refs.append(SegmentRef(r, k, inst.category_id))
        if skipped:
            detail = ", ".join(f"{n} {why}" for why, n in sorted(skipped.items()))
            log.warning(
                "%s: left %d instance(s) out of the segment bank: %s", coco.json_path, sum(skipped.values()), detail
            )
        self.by_class: dict[int, list[int]] = defaultdict(list)
        for i, ref in enumerate(self.refs):
            self.by_class[ref.category_id].append(i)
        self.by_class = dict(sorted(self.by_class.items()))
        if not self.refs:
            raise DatasetError(f"{coco.json_path}: no usable instance for the segment bank")

    @classmethod
    def from_coco(
        cls, labels: Path | str, image_root: Path | str | None = None, skip_bad: bool = False, **kwargs
    ) -> SegmentBank:
        """Load labelled instances and build their bank: a COCO json (polygons, RLE or boxes only), or a VOC
        or YOLO folder (boxes; YOLO polygons), read as a COCO set (``skip_bad``: its images are decoded up
        front and broken ones left out)."""
        return cls(
            load_annotations(labels, image_root, skip_bad=skip_bad, check_images=run_image_check(skip_bad)), **kwargs
        )

    @property
    def categories(self) -> dict[int, str]:
        return self.coco.categories

    def __len__(self) -> int:
        return len(self.refs)

    def record(self, index: int) -> ImageRecord:
        """The image record segment ``index`` is cut from."""
        return self.coco.images[self.refs[index].record]

    def __getitem__(self, index: int) -> Segment:
        """Segment ``index``, cut on first use then served from the LRU cache."""
        segment = self._cache.get(index)
        if segment is not None:
            self._cache.move_to_end(index)
            return segment
        segment = self._cut(self.refs[index])
        self._cache[index] = segment
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return segment

    def _cut(self, ref: SegmentRef) -> Segment:
        record = self.coco.images[ref.record]
        inst = record.instances[ref.instance]
        image = read_rgb(record.path)
        if image.shape[:2] != (record.height, record.width):
            raise DatasetError(
                f"{record.path}: image is {image.shape[1]}x{image.shape[0]} but "
                f"{self.coco.json_path} says {record.width}x{record.height}"
            )
        x1, y1, x2, y2 = _crop_box(inst, record)
        crop = image[y1:y2, x1:x2]
        if inst.has_mask:
            mask = _mask_in_box(inst, record, (x1, y1, x2, y2))
        elif self.refine_boxes:
            mask = silhouette(crop, threshold=self.refine_threshold)
            if mask is None:
                log.debug(
                    "%s: annotation %d: no silhouette found in its box; using the whole box", record.path, inst.id
                )
                self.box_fallbacks += 1
                mask = np.ones(crop.shape[:2], np.uint8)
        else:
            mask = np.ones(crop.shape[:2], np.uint8)
        tight = mask_box(mask)
        if tight is None:
            raise DatasetError(
                f"{record.path}: annotation {inst.id} of {self.coco.json_path} has an empty mask inside its box"
            )
        tx1, ty1, tx2, ty2 = tight
        return Segment(
            np.ascontiguousarray(crop[ty1:ty2, tx1:tx2]),
            np.ascontiguousarray(mask[ty1:ty2, tx1:tx2]),
            inst.category_id,
            str(record.path),
            inst.id,
        )


def _reject_reason(inst: Instance, record: ImageRecord, min_size: int, max_size: int | None) -> str | None:
    if inst.iscrowd:
        return "crowd annotations"
    longer = max(inst.bbox[2], inst.bbox[3])
    if longer < min_size:
        return f"smaller than {min_size} px"
    if max_size is not None and longer > max_size:
        return f"larger than {max_size} px"
    if inst.has_mask and segmentation_area(inst.segmentation, record.height, record.width) < 1.0:
        return "empty masks"
    return None


def _crop_box(inst: Instance, record: ImageRecord) -> tuple[int, int, int, int]:
    """Integer box holding the instance's box and polygons, clipped to the image."""
    x1, y1, x2, y2 = inst.box_xyxy
    if isinstance(inst.segmentation, list):
        points = np.concatenate([np.asarray(p, float) for p in inst.segmentation])
        x1, x2 = min(x1, points[0::2].min()), max(x2, points[0::2].max())
        y1, y2 = min(y1, points[1::2].min()), max(y2, points[1::2].max())
    return (
        max(int(np.floor(x1)), 0),
        max(int(np.floor(y1)), 0),
        min(int(np.ceil(x2)), record.width),
        min(int(np.ceil(y2)), record.height),
    )


def _mask_in_box(inst: Instance, record: ImageRecord, box: tuple[int, int, int, int]) -> np.ndarray:
    """Rasterise the instance mask inside ``box`` only (polygons are shifted, RLE is cropped)."""
    x1, y1, x2, y2 = box
    seg = inst.segmentation
    if isinstance(seg, list):
        shifted = []
        for poly in seg:
            p = np.asarray(poly, float).copy()
            p[0::2] -= x1
            p[1::2] -= y1
            shifted.append(p.tolist())
        return decode_segmentation(shifted, y2 - y1, x2 - x1)
    return decode_segmentation(seg, record.height, record.width)[y1:y2, x1:x2]
