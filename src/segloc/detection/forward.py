"""The detector's test-time forward in parts: the input resize (run in loader workers), one batched
pass through backbone, RPN and RoI heads on the device, and boxes and pasted masks at each scan's
own size.

``GeneralizedRCNN.forward`` resizes on the device and pastes masks one by one; here the resize is
the detector's own (``transform.resize``) but runs where the scan is decoded, and every mask of a
batch is pasted by matrix products (:mod:`segloc.detection.masks`). The eager path, ``segloc
detect`` and the exported ONNX / TorchScript graphs all go through these functions.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torchvision.models.detection.generalized_rcnn import GeneralizedRCNN
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.transform import GeneralizedRCNNTransform, resize_boxes

from segloc.detection.masks import paste_masks

Size = tuple[int, int]


def prepare_image(image: Tensor, transform: GeneralizedRCNNTransform) -> Tensor:
    """(H, W, 3) uint8 RGB scan -> the detector's (3, h, w) float input, longer side at its image size."""
    rgb = image.permute(2, 0, 1).to(torch.float32) / 255.0
    return transform.resize(rgb, None)[0]


def to_scan_frame(detections: dict[str, Tensor], resized: Size, size: Size) -> dict[str, Tensor]:
    """Boxes scaled from the resized input back to the scan's ``size``; masks pasted at that size."""
    out = dict(detections)
    out["boxes"] = resize_boxes(detections["boxes"], resized, size)
    if "masks" in detections:
        out["masks"] = paste_masks(detections["masks"], out["boxes"], size[0], size[1])
    return out


@torch.no_grad()
def run_detector(model: GeneralizedRCNN, images: list[Tensor], sizes: list[Size]) -> list[dict[str, Tensor]]:
    """Detections (boxes, scores, labels, masks) of prepared inputs, in the frames of scans of ``sizes``."""
    transform = model.transform
    normalised = [transform.normalize(image) for image in images]
    resized = [(image.shape[-2], image.shape[-1]) for image in images]
    batch = ImageList(transform.batch_images(normalised, transform.size_divisible), resized)
    features = model.backbone(batch.tensors)
    proposals, _ = model.rpn(batch, features)
    detections, _ = model.roi_heads(features, proposals, batch.image_sizes)
    return [to_scan_frame(d, r, s) for d, r, s in zip(detections, resized, sizes)]
