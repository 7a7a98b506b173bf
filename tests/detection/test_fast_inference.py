"""Batched test-time path: one NMS over the batch, masks pasted by matrix products, the resize in the
loader; the detections match the detector's own forward."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from segloc.detection import load_detector
from segloc.detection.masks import paste_masks


def _scans() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (150, 200, 3), dtype=np.uint8), rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)]


@pytest.mark.parametrize("kind", ["cascade", "mask_rcnn"])
def test_batched_inference_matches_the_detectors_own_forward(random_detector_runs: dict[str, Path], kind: str) -> None:
    detector = load_detector(random_detector_runs[kind])
    scans = _scans()
    new = detector.infer(scans)
    with torch.no_grad():
        old = detector.model([torch.from_numpy(s).permute(2, 0, 1).float() / 255 for s in scans])
    for o, n, scan in zip(old, new, scans):
        assert len(n["boxes"]) == len(o["boxes"]) > 10
        assert torch.allclose(n["boxes"], o["boxes"], atol=1e-2)
        assert torch.allclose(n["scores"], o["scores"], atol=1e-4)
        assert torch.equal(n["labels"], o["labels"])
        assert n["masks"].shape == (len(n["boxes"]), 1, *scan.shape[:2])


def test_a_batch_gives_what_each_scan_gives_alone(random_detector_runs: dict[str, Path]) -> None:
    detector = load_detector(random_detector_runs["cascade"])
    scans = _scans()
    together = detector.infer(scans)
    for scan, batched in zip(scans, together):
        alone = detector.infer([scan])[0]
        assert torch.allclose(alone["boxes"], batched["boxes"], atol=1e-3)
        assert torch.allclose(alone["scores"], batched["scores"], atol=1e-5)


def test_score_floor_drops_low_detections_before_masks_and_restores_the_threshold(
    random_detector_runs: dict[str, Path],
) -> None:
    detector = load_detector(random_detector_runs["cascade"])
    full = detector.infer(_scans()[:1])[0]
    floor = float(full["scores"].median())
    high = detector.infer(_scans()[:1], min_score=floor)[0]
    assert torch.allclose(high["scores"], full["scores"][full["scores"] > floor])
    assert len(high["masks"]) == len(high["scores"])
    assert detector.model.roi_heads.score_thresh == detector.model_config.score_thresh


def test_a_pasted_mask_covers_the_pixels_whose_centres_fall_in_its_cells() -> None:
    masks = torch.zeros(1, 1, 28, 28)
    masks[0, 0, 7:21, 4:24] = 1.0  # cells 4..23 across, 7..20 down
    box = torch.tensor([[20.0, 10.0, 76.0, 66.0]])  # 2 px per cell
    pasted = paste_masks(masks, box, 90, 120)[0, 0]
    expected = torch.zeros(90, 120, dtype=torch.bool)
    expected[10 + 14 : 10 + 42, 20 + 8 : 20 + 48] = True  # the cells' extent: y 24..52, x 28..68
    assert torch.equal(pasted > 0.5, expected)
    assert pasted[~expected].max() < 0.5 and pasted[expected].min() > 0.5
    full = paste_masks(torch.ones(1, 1, 28, 28), box, 90, 120)[0, 0]
    assert full[11:65, 21:75].min() == 1.0 and full[:9].max() == 0.0 and full[:, 77:].max() == 0.0


def test_mask_head_and_predictor_keep_channels_last_weights_through_loading(
    random_detector_runs: dict[str, Path],
) -> None:
    heads = load_detector(random_detector_runs["cascade"]).model.roi_heads
    convs = [m for m in heads.mask_head.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    deconv = heads.mask_predictor.conv5_mask
    assert deconv.weight.is_contiguous(memory_format=torch.channels_last)
    features = torch.randn(5, deconv.in_channels, 14, 14)
    reference = torch.nn.functional.conv_transpose2d(features, deconv.weight.contiguous(), deconv.bias, stride=2)
    with torch.no_grad():
        assert torch.allclose(deconv(features), reference, atol=1e-4)
