"""The detector's test-time forward in parts: the input resize (run in loader workers), one batched
pass through backbone, RPN and RoI heads on the device, and boxes and pasted masks at each scan's
own size.

``GeneralizedRCNN.forward`` resizes on the device and pastes masks one by one; here the same
resize runs where the scan is decoded, and every mask of a batch is pasted by matrix products (:mod:`segloc.detection.masks`). The eager path, ``segloc
detect`` and the exported ONNX / TorchScript graphs all go through these functions.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.models.detection.generalized_rcnn import GeneralizedRCNN
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.transform import resize_boxes

from segloc.detection.masks import paste_masks

Size = tuple[int, int]


def prepare_image(image: Tensor, long_side: int) -> Tensor:
    """(H, W, 3) uint8 RGB scan -> the detector's (3, h, w) float input: scaled (bilinear) so that its
    longer side is ``long_side``, as the detector's own transform does. The size is computed in
    float32 tensor arithmetic, which a traced graph records as is, so that eager and exported
    detectors get the same input."""
    rgb = image.permute(2, 0, 1).to(torch.float32) / 255.0
    height_width = torch._shape_as_tensor(image)[:2].to(torch.float32)
    resized = torch.floor(height_width * long_side / height_width.max()).to(torch.int64)
    return F.interpolate(rgb[None], size=(resized[0], resized[1]), mode="bilinear", align_corners=False)[0]


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
