"""segloc's CPU RoIAlign gives torchvision's values and gradients, and steps aside where it should."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torchvision

from segloc.models.roi_align import MultiScaleRoIAlign, roi_align


def _boxes(generator: torch.Generator, n: int, side: float, dtype: torch.dtype) -> torch.Tensor:
    corner = torch.rand(n, 2, generator=generator, dtype=dtype) * side
    size = torch.rand(n, 2, generator=generator, dtype=dtype) * side / 2
    return torch.cat([corner, corner + size], 1)


# Boxes a detector can hand over: inside, on the border, partly or wholly outside, thinner than a pixel.
EDGE_BOXES = [[0.0, 0.0, 95.0, 79.0], [90.0, 70.0, 96.0, 80.0], [-10.0, -5.0, 30.0, 40.0], [50.0, 50.0, 50.2, 50.1]]
EDGE_BOXES += [[10.0, 10.0, 200.0, 100.0], [-30.0, -30.0, -10.0, -5.0]]


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("ratio", [1, 2, 3])
def test_values_and_gradients_match_torchvision(aligned: bool, ratio: int) -> None:
    gen = torch.Generator().manual_seed(ratio)
    features = torch.randn(2, 5, 20, 24, generator=gen, dtype=torch.float64, requires_grad=True)
    boxes = [torch.tensor(EDGE_BOXES, dtype=torch.float64), _boxes(gen, 7, 90.0, torch.float64)]
    ours = roi_align(features, boxes, (7, 5), 0.25, ratio, aligned)
    theirs = torchvision.ops.roi_align(features, boxes, (7, 5), 0.25, ratio, aligned)
    upstream = torch.randn(ours.shape, generator=gen, dtype=torch.float64)
    (grad_ours,) = torch.autograd.grad(ours, features, upstream)
    (grad_theirs,) = torch.autograd.grad(theirs, features, upstream)
    torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(grad_ours, grad_theirs, rtol=1e-9, atol=1e-9)


def test_multiscale_pooler_matches_torchvision_on_fpn_levels() -> None:
    gen = torch.Generator().manual_seed(0)
    names = ["0", "1", "2", "3"]
    features = OrderedDict(
        (name, torch.randn(2, 8, 64 >> i, 48 >> i, generator=gen, requires_grad=True)) for i, name in enumerate(names)
    )
    features["pool"] = torch.randn(2, 8, 4, 3, generator=gen)
    boxes = [_boxes(gen, 40, 180.0, torch.float32).clamp(max=190.0) for _ in range(2)]
    shapes = [(256, 192), (250, 190)]
    ours = MultiScaleRoIAlign(names, 7, 2)(features, boxes, shapes)
    theirs = torchvision.ops.MultiScaleRoIAlign(names, 7, 2)(features, boxes, shapes)
    upstream = torch.randn(ours.shape, generator=gen)
    levels = [features[n] for n in names]
    grads_ours = torch.autograd.grad(ours, levels, upstream)
    grads_theirs = torch.autograd.grad(theirs, levels, upstream)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
    for a, b in zip(grads_ours, grads_theirs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_no_boxes_pool_to_an_empty_batch_with_zero_gradient() -> None:
    features = torch.randn(2, 4, 8, 8, requires_grad=True)
    pooled = roi_align(features, [torch.zeros(0, 4), torch.zeros(0, 4)], 7, 0.5, 2)
    assert pooled.shape == (0, 4, 7, 7)
    pooled.sum().backward()
    assert features.grad is not None and not features.grad.any()
    levels = OrderedDict((name, torch.randn(1, 4, 16 >> i, 16 >> i)) for i, name in enumerate("0123"))
    assert MultiScaleRoIAlign(list("0123"), 7, 2)(levels, [torch.zeros(0, 4)], [(64, 64)]).shape == (0, 4, 7, 7)


@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::torch.jit.TracerWarning")
def test_tracing_and_adaptive_sampling_use_torchvisions_op() -> None:
    features = torch.randn(1, 4, 16, 16)
    boxes = torch.tensor([[0.0, 1.0, 2.0, 30.0, 40.0]])
    adaptive = roi_align(features, boxes, 3, 0.5, -1)
    torch.testing.assert_close(adaptive, torchvision.ops.roi_align(features, boxes, 3, 0.5, -1), rtol=0, atol=0)
    traced = torch.jit.trace(lambda x: roi_align(x, boxes, 3, 0.5, 2), (features,))
    assert "torchvision::roi_align" in str(traced.graph)
    assert "embedding_bag" not in str(traced.graph)
