"""SDANet attention: shapes, softmax over levels, zero-initialised context block, residual structure."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from segloc.models import ContextBlock, SDAAttention
from segloc.models.sdanet import gather_levels

SIZES = ((25, 33), (13, 17), (7, 9), (4, 5), (2, 3))


def pyramid(batch: int = 2, sizes: tuple[tuple[int, int], ...] = SIZES) -> list[torch.Tensor]:
    torch.manual_seed(0)
    return [torch.randn(batch, 256, h, w) for h, w in sizes]


def test_output_shapes_equal_input_shapes() -> None:
    feats = pyramid()
    out = SDAAttention(256, num_levels=5).train()(feats)
    assert [o.shape for o in out] == [f.shape for f in feats]
    assert all(torch.isfinite(o).all() for o in out)
    three = pyramid(sizes=((12, 16), (6, 8), (3, 4)))
    assert [o.shape for o in SDAAttention(256, num_levels=3).eval()(three)] == [f.shape for f in three]


def test_gather_uses_max_pool_for_finer_and_nearest_for_coarser() -> None:
    feats = pyramid(batch=1)
    gathered = gather_levels(feats, target=2)
    assert all(g.shape[-2:] == feats[2].shape[-2:] for g in gathered)
    torch.testing.assert_close(gathered[0], F.adaptive_max_pool2d(feats[0], (7, 9)))
    torch.testing.assert_close(gathered[4], F.interpolate(feats[4], size=(7, 9), mode="nearest"))
    assert gathered[2] is feats[2]


def test_attention_weights_sum_to_one_over_levels() -> None:
    feats = pyramid()
    module = SDAAttention(256, num_levels=5).eval().levels[1]
    total = torch.stack(gather_levels(feats, 1)).sum(0)
    channel_w = module.channel(total)
    spatial_w = module.spatial(total)
    assert channel_w.shape == (2, 5, 256, 1, 1) and spatial_w.shape == (2, 5, 1, 13, 17)
    torch.testing.assert_close(channel_w.sum(1), torch.ones(2, 256, 1, 1))
    torch.testing.assert_close(spatial_w.sum(1), torch.ones(2, 1, 13, 17))
    assert channel_w.std() > 0 and spatial_w.std() > 0


def test_context_block_starts_as_identity_and_learns() -> None:
    block = ContextBlock(256, ratio=1 / 16)
    assert block.transform[0].out_channels == 16
    assert torch.count_nonzero(block.transform[-1].weight) == 0
    x = torch.randn(2, 256, 7, 9)
    assert torch.equal(block(x), x)
    (block(x) * torch.randn_like(x)).sum().backward()
    assert block.transform[-1].weight.grad.abs().sum() > 0


def test_output_is_p_plus_channel_and_spatial_fusion_at_init() -> None:
    """With the context block at identity: out_l = P_l + sum_i g_i * (channel_w_i + spatial_w_i)."""
    feats = pyramid()
    attention = SDAAttention(256, num_levels=5).eval()
    out = attention(feats)
    for level, module in enumerate(attention.levels):
        gathered = gather_levels(feats, level)
        total = torch.stack(gathered).sum(0)
        stacked = torch.stack(gathered, dim=1)
        fused = (stacked * module.channel(total)).sum(1) + (stacked * module.spatial(total)).sum(1)
        torch.testing.assert_close(out[level], feats[level] + fused)


def test_no_module_shared_between_levels() -> None:
    attention = SDAAttention(256, num_levels=5)
    ids = [{id(p) for p in m.parameters()} for m in attention.levels]
    assert all(not (ids[i] & ids[j]) for i in range(5) for j in range(i + 1, 5))
    assert len(attention.levels[0].channel.expand) == 5 and len(attention.levels[0].spatial.convs) == 5


def test_batch_of_one_needs_non_bn_attention_norm() -> None:
    feats = pyramid(batch=1, sizes=((8, 8), (4, 4), (2, 2)))
    with pytest.raises(ValueError, match="at least 2 images"):
        SDAAttention(256, num_levels=3).train()(feats)
    for norm in ("gn", "frozenbn"):
        out = SDAAttention(256, num_levels=3, norm=norm).train()(feats)
        assert [o.shape for o in out] == [f.shape for f in feats]
