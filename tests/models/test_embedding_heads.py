"""RoI and global embedding heads: unit-norm outputs, RoIAlign equals torchvision's, level batching, spread head."""

from __future__ import annotations

import pytest
import torch
from torchvision.ops import roi_align

from segloc.models import GlobalEmbeddingHead, RoIEmbeddingHead, build_backbone

BOXES = [torch.tensor([[10.0, 12.0, 70.0, 80.0]]), torch.tensor([[0.0, 0.0, 130.0, 96.0], [40.5, 20.25, 60.0, 50.0]])]


@pytest.fixture(scope="module")
def feats() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = build_backbone("resnet18").eval()
    with torch.no_grad():
        return model(torch.randn(2, 3, 97, 131))


def test_unit_norm_128d_per_level(feats: dict[str, torch.Tensor]) -> None:
    head = RoIEmbeddingHead().train()
    out = head(feats, BOXES)
    assert list(out) == ["p2", "p3", "p4", "p5"]
    for emb in out.values():
        assert emb.shape == (3, 128)
        torch.testing.assert_close(emb.norm(dim=1), torch.ones(3))
    assert not torch.allclose(out["p2"], out["p5"])


def test_pooling_equals_torchvision_roi_align_with_level_scale(feats: dict[str, torch.Tensor]) -> None:
    pooled = RoIEmbeddingHead().pool(feats, BOXES)
    rois = torch.cat([torch.cat([torch.full((len(b), 1), float(i)), b], dim=1) for i, b in enumerate(BOXES)])
    for level, stride in (("p2", 4), ("p3", 8), ("p4", 16), ("p5", 32)):
        direct = roi_align(feats[level], rois, output_size=7, spatial_scale=1 / stride, sampling_ratio=2, aligned=True)
        assert pooled[level].shape == (3, 256, 7, 7)
        torch.testing.assert_close(pooled[level], direct)


def test_batched_levels_equal_per_level_calls_in_eval(feats: dict[str, torch.Tensor]) -> None:
    head = RoIEmbeddingHead().eval()
    batched = head(feats, BOXES)
    head.batch_levels = False
    separate = head(feats, BOXES)
    for level in batched:
        torch.testing.assert_close(batched[level], separate[level])


def test_head_layout_matches_insloc() -> None:
    head = RoIEmbeddingHead()
    assert len(head.convs) == 4 and all(block.conv.kernel_size == (3, 3) for block in head.convs)
    assert [m.out_features for m in head.fcs if hasattr(m, "out_features")] == [1024, 1024]
    assert head.fcs[0].in_features == 256 * 7 * 7 and head.proj.out_features == 128


def mean_cosine(embeddings: torch.Tensor) -> float:
    """Mean cosine between different rows of unit vectors."""
    n = len(embeddings)
    return float(((embeddings @ embeddings.T).sum() - n) / (n * n - n))


def test_centred_batch_normalised_head_spreads_embeddings_the_insloc_head_bunches(
    feats: dict[str, torch.Tensor],
) -> None:
    boxes = [torch.tensor([[8.0 * i, 5.0 * i, 40.0 + 8 * i, 50.0 + 4 * i] for i in range(8)])] * 2
    torch.manual_seed(0)
    insloc = RoIEmbeddingHead().train()
    torch.manual_seed(0)
    spread = RoIEmbeddingHead(centred=True, fc_norm=True, out_norm=True).train()
    with torch.no_grad():
        bunched, centred = insloc(feats, boxes)["p3"], spread(feats, boxes)["p3"]
    assert mean_cosine(bunched) > 0.5
    assert mean_cosine(centred) < 0.5 * mean_cosine(bunched)
    torch.testing.assert_close(centred.norm(dim=1), torch.ones(16))


def test_spread_head_layout_and_insloc_state_dict_unchanged() -> None:
    insloc, spread = RoIEmbeddingHead(), RoIEmbeddingHead(centred=True, fc_norm=True, out_norm=True)
    assert all(isinstance(block.act, torch.nn.ReLU) for block in insloc.convs)
    assert isinstance(spread.convs[-1].act, torch.nn.Identity)
    assert all(isinstance(block.act, torch.nn.ReLU) for block in spread.convs[:-1])
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in spread.fcs) == 2
    assert isinstance(spread.out_norm, torch.nn.BatchNorm1d) and not spread.out_norm.affine
    keys = set(insloc.state_dict())
    assert {"fcs.0.weight", "fcs.2.weight", "proj.weight"} <= keys and not any("out_norm" in k for k in keys)


def test_global_head_dims_from_arch_and_unit_norm() -> None:
    torch.manual_seed(0)
    head18 = GlobalEmbeddingHead.for_arch("resnet18")
    head50 = GlobalEmbeddingHead.for_arch("resnet50")
    assert head18.mlp[0].in_features == 512 and head18.mlp[0].out_features == 512
    assert head50.mlp[0].in_features == 2048 and head50.mlp[2].out_features == 128
    c5 = build_backbone("resnet18").body(torch.randn(2, 3, 96, 128))["c5"]
    emb = head18(c5)
    assert emb.shape == (2, 128)
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(2))
    torch.testing.assert_close(emb, head18(c5.mean(dim=(2, 3))))
