"""An RPN head whose hidden width is a choice: the paper's (the FPN width) or a narrower one for CPUs.

torchvision's ``RPNHead`` runs a 3x3 convolution as wide as the FPN on every level; at 256 px on
a CPU that convolution alone costs half the ResNet-18+FPN forward pass. A narrower hidden layer
(e.g. 64 channels) keeps the anchor classification and regression of the same levels and anchors.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


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
