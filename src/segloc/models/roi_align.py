"""RoIAlign that is fast on a CPU: the same sampling as torchvision's, computed as one weighted embedding_bag.

torchvision's CPU RoIAlign loops over RoIs, channels and samples one value at a time; its backward
pass took about half of a CPU detector training step. RoIAlign is a fixed sparse linear map: each
output bin averages ``ratio x ratio`` bilinear samples of four pixels each. Here that map's pixel
indices and weights are built once per call and the pooling runs as ``F.embedding_bag`` in "sum" mode
over rows of C channels, vectorised over channels forward and backward (the CPU detector's training
step 1.1-1.3x faster, 1.5x with the paper-width heads: benchmarks/bench_detection.py). The values
equal torchvision's up to float rounding. On a GPU, with an adaptive sampling ratio, and while
tracing or scripting (ONNX and TorchScript export) torchvision's op runs as it is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from torch import Tensor
from torchvision.ops.boxes import box_area


def _axis_samples(
    start: Tensor, length: Tensor, bins: int, ratio: int, size: int
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Low and high pixel and their bilinear weights of every sample along one axis: [R, bins * ratio]."""
    steps = (torch.arange(bins * ratio, dtype=start.dtype, device=start.device) + 0.5) / (bins * ratio)
    pos = start[:, None] + steps[None] * length[:, None]
    inside = ((pos >= -1.0) & (pos <= size)).to(pos.dtype)
    pos = pos.clamp(min=0.0)
    low = pos.floor().clamp(max=size - 1)
    high = (low + 1).clamp(max=size - 1)
    frac = pos.clamp(max=size - 1) - low
    return low.long(), high.long(), (1 - frac) * inside, frac * inside


def _sample_map(
    rois: Tensor, shape: torch.Size, output_size: tuple[int, int], scale: float, ratio: int, aligned: bool
) -> tuple[Tensor, Tensor]:
    """RoIAlign as a sparse map: for every output bin, the flat input pixels it reads and their weights.

    ``rois`` is [R, 5] (image index, x1, y1, x2, y2), ``shape`` the input's (N, C, H, W); returns two
    [R, bins, 4 * ratio**2] tensors, indices into the N * H * W pixels and weights that sum the bin's mean.
    """
    _, _, height, width = shape
    out_h, out_w = output_size
    offset = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = (rois[:, i] * scale - offset for i in range(1, 5))
    w, h = x2 - x1, y2 - y1
    if not aligned:
        w, h = w.clamp(min=1.0), h.clamp(min=1.0)
    x_lo, x_hi, wx_lo, wx_hi = _axis_samples(x1, w, out_w, ratio, width)
    y_lo, y_hi, wy_lo, wy_hi = _axis_samples(y1, h, out_h, ratio, height)
    rows = torch.stack([y_lo, y_lo, y_hi, y_hi], -1)[:, :, None]
    cols = torch.stack([x_lo, x_hi, x_lo, x_hi], -1)[:, None]
    row_w = torch.stack([wy_lo, wy_lo, wy_hi, wy_hi], -1)[:, :, None]
    col_w = torch.stack([wx_lo, wx_hi, wx_lo, wx_hi], -1)[:, None]
    index = rois[:, 0].long()[:, None, None, None] * (height * width) + rows * width + cols
    r = rois.shape[0]

    def per_bin(t: Tensor) -> Tensor:
        # [R, out_h * ratio, out_w * ratio, 4] -> [R, out_h * out_w, ratio * ratio * 4]
        t = t.reshape(r, out_h, ratio, out_w, ratio, 4).permute(0, 1, 3, 2, 4, 5)
        return t.reshape(r, out_h * out_w, ratio * ratio * 4)

    return per_bin(index), per_bin(row_w * col_w) / (ratio * ratio)


def _pooled_rows(
    features: Tensor, rois: Tensor, output_size: tuple[int, int], scale: float, ratio: int, aligned: bool
) -> Tensor:
    """RoIAlign as one weighted ``embedding_bag`` over the input's pixels: [R, h, w, C], rows of C channels."""
    index, weights = _sample_map(rois, features.shape, output_size, scale, ratio, aligned)
    channels, k = features.shape[1], index.shape[-1]
    pixels = features.permute(0, 2, 3, 1).reshape(-1, channels)
    pooled = F.embedding_bag(
        index.reshape(-1, k), pixels, per_sample_weights=weights.reshape(-1, k).to(pixels.dtype), mode="sum"
    )
    return pooled.reshape(rois.shape[0], *output_size, channels)


def _use_bags(features: Tensor, sampling_ratio: int) -> bool:
    """The embedding_bag path serves eager CPU work with a fixed sampling ratio; the rest is torchvision's."""
    return (
        features.device.type == "cpu"
        and sampling_ratio > 0
        and not torch.jit.is_tracing()
        and not torch.jit.is_scripting()
    )


def _pair(size: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def _rois(boxes: Tensor | list[Tensor]) -> Tensor:
    """[K, 5] RoIs (image index first) from a [K, 5] tensor or one [N_i, 4] tensor per image."""
    if isinstance(boxes, Tensor):
        return boxes
    index = [torch.full_like(b[:, :1], i) for i, b in enumerate(boxes)]
    return torch.cat([torch.cat(index), torch.cat(list(boxes))], 1)


def roi_align(
    features: Tensor,
    boxes: Tensor | list[Tensor],
    output_size: int | tuple[int, int] | list[int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> Tensor:
    """``torchvision.ops.roi_align``'s values (up to float rounding), faster on a CPU."""
    if not _use_bags(features, sampling_ratio):
        return torchvision.ops.roi_align(features, boxes, output_size, spatial_scale, sampling_ratio, aligned)
    rois = _rois(boxes).to(features.dtype)
    rows = _pooled_rows(features, rois, _pair(output_size), float(spatial_scale), sampling_ratio, aligned)
    return rows.permute(0, 3, 1, 2)


class MultiScaleRoIAlign(torchvision.ops.MultiScaleRoIAlign):
    """torchvision's FPN RoI pooler (the same level per box, the same values), with the CPU path above."""

    def forward(self, x: dict[str, Tensor], boxes: list[Tensor], image_shapes: list[tuple[int, int]]) -> Tensor:
        """Pool every box from the FPN level its size maps to (FPN paper, eq. 1)."""
        features = [v for k, v in x.items() if k in self.featmap_names]
        if not _use_bags(features[0], self.sampling_ratio):
            return super().forward(x, boxes, image_shapes)
        rois = _rois(boxes).to(features[0].dtype)
        top = max(s[0] for s in image_shapes)
        strides = [2 ** round(torch.log2(torch.tensor(top / f.shape[-2])).item()) for f in features]
        first, last = strides[0].bit_length() - 1, strides[-1].bit_length() - 1
        size = torch.sqrt(box_area(rois[:, 1:]))
        level = torch.floor(self.canonical_level + torch.log2(size / self.canonical_scale) + 1e-6)
        level = level.clamp(first, last).long() - first
        # Levels write rows of C channels ([R, h, w, C]), the layout the pooling produces: no transposes.
        result = features[0].new_zeros((rois.shape[0], *self.output_size, features[0].shape[1]))
        for i, (feat, stride) in enumerate(zip(features, strides)):
            keep = torch.where(level == i)[0]
            rows = _pooled_rows(feat, rois[keep], self.output_size, 1.0 / stride, self.sampling_ratio, False)
            result[keep] = rows.to(result.dtype)
        return result.permute(0, 3, 1, 2)
