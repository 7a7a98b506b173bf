"""segloc's RPN parts: a head whose hidden width is a choice, and proposal filtering whose NMS stops
at the proposals it keeps.

torchvision's ``RPNHead`` runs a 3x3 convolution as wide as the FPN on every level; at 256 px on
a CPU that convolution alone costs half the ResNet-18+FPN forward pass. A narrower hidden layer
(e.g. 64 channels) keeps the anchor classification and regression of the same levels and anchors.

torchvision's ``filter_proposals`` suppresses every candidate of an image (up to ``pre_nms_top_n``
per level, one NMS call per level on a CPU) and then keeps the ``post_nms_top_n`` best. Greedy NMS
decides a box's fate from the higher-scored boxes alone, so NMS over the best-scored prefix of the
candidates gives the same first kept boxes; the prefix doubles until enough are kept.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from torch import Tensor, nn
from torchvision.models.detection import rpn
from torchvision.ops import boxes as box_ops


class RPNHead(nn.Module):
    """3x3 conv (``channels`` wide) + ReLU, then per-anchor objectness and box deltas, on each level."""

    def __init__(self, in_channels: int, num_anchors: int, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.cls_logits = nn.Conv2d(channels, num_anchors, 1)
        self.bbox_pred = nn.Conv2d(channels, 4 * num_anchors, 1)
        for layer in (self.conv, self.cls_logits, self.bbox_pred):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)

    def forward(self, features: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        hidden = [F.relu(self.conv(x)) for x in features]
        return [self.cls_logits(h) for h in hidden], [self.bbox_pred(h) for h in hidden]


def nms_top(boxes: Tensor, scores: Tensor, groups: Tensor, iou_threshold: float, limit: int) -> Tensor:
    """The first ``limit`` indices that ``batched_nms`` keeps (by decreasing score), found by running
    it on the best-scored prefix of the boxes, twice as long as ``limit`` and doubled until enough
    are kept or every box is in."""
    order = torch.sort(scores, descending=True, stable=True).indices
    length = 2 * limit
    while True:
        head = order[:length]
        keep = head[box_ops.batched_nms(boxes[head], scores[head], groups[head], iou_threshold)]
        if len(keep) >= limit or length >= len(order):
            return keep[:limit]
        length *= 2


class RegionProposalNetwork(rpn.RegionProposalNetwork):
    """torchvision's RPN with the per-level top-n, clipping and size filter done for the whole batch
    at once and NMS over the best-scored prefix of each image's candidates (:func:`nms_top`)."""

    def filter_proposals(
        self,
        proposals: Tensor,
        objectness: Tensor,
        image_shapes: list[tuple[int, int]],
        num_anchors_per_level: list[int],
    ) -> tuple[list[Tensor], list[Tensor]]:
        if torchvision._is_tracing():
            return super().filter_proposals(proposals, objectness, image_shapes, num_anchors_per_level)
        num_images, device = proposals.shape[0], proposals.device
        objectness = objectness.detach().reshape(num_images, -1)
        levels = torch.cat(
            [torch.full((n,), i, dtype=torch.int64, device=device) for i, n in enumerate(num_anchors_per_level)]
        )
        top = self._get_top_n_idx(objectness, num_anchors_per_level)
        rows = torch.arange(num_images, device=device)[:, None]
        scores = torch.sigmoid(objectness[rows, top])
        heights_widths = torch.tensor(image_shapes, dtype=proposals.dtype, device=device)
        bounds = heights_widths[:, [1, 0, 1, 0]][:, None]
        boxes = torch.minimum(proposals[rows, top].clamp(min=0), bounds)
        sides = boxes[..., 2:] - boxes[..., :2]
        valid = (sides >= self.min_size).all(dim=-1) & (scores >= self.score_thresh)
        final_boxes, final_scores = [], []
        for b, s, lvl, v in zip(boxes, scores, levels[top], valid):
            b, s, lvl = b[v], s[v], lvl[v]
            keep = nms_top(b, s, lvl, self.nms_thresh, self.post_nms_top_n())
            final_boxes.append(b[keep])
            final_scores.append(s[keep])
        return final_boxes, final_scores
