"""The contrastive model: gradients, momentum update, class-queue negatives, shuffle-BN, accumulation, spread head."""

from __future__ import annotations

import pytest
import torch
from pretrain_fakes import FakePairs, tiny_config
from pydantic import ValidationError

from segloc.pretrain.builder import build_model, embedding_std
from segloc.synthesis.dataset import collate_pairs

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def batch() -> dict:
    pairs = FakePairs(sizes=(56, 64))
    return collate_pairs([pairs[i] for i in range(8)])


def model_for(method: str = "segloc", *overrides: str):
    torch.manual_seed(0)
    return build_model(tiny_config(method, *overrides), [1, 2, 3]).train()


def loss_of(model, batch: dict, part: slice = slice(None)):
    q, k = batch["view1"], batch["view2"]
    keys = model.encode_keys(k["image"], k["box"])
    return model(q["image"][part], q["box"][part], q["label"][part], {lv: v[part] for lv, v in keys.items()})


def test_only_the_query_encoder_gets_gradients(batch: dict) -> None:
    model = model_for()
    loss, stats = loss_of(model, batch)
    loss.backward()
    assert set(stats) == {f"{s}_{lv}" for s in ("loss", "acc", "rank", "std") for lv in ("p2", "p3", "p4", "p5")}
    assert all(p.grad is None and not p.requires_grad for p in model.encoder_k.parameters())
    grads = [p.grad for p in model.encoder_q.parameters()]
    assert all(g is not None for g in grads)
    assert sum(bool(g.abs().sum() > 0) for g in grads) > 0.9 * len(grads)
    assert not any(b.requires_grad for b in model.queues.buffers())


def test_embedding_std_tells_spread_from_collapsed_embeddings() -> None:
    spread = torch.nn.functional.normalize(torch.randn(512, 128, generator=torch.Generator().manual_seed(0)), dim=1)
    collapsed = torch.nn.functional.normalize(spread[:1] + 1e-3 * spread, dim=1)
    assert 0.9 < float(embedding_std(spread)) < 1.1
    assert float(embedding_std(collapsed)) < 0.01


def test_key_encoder_is_the_momentum_average(batch: dict) -> None:
    model = model_for("insloc", "contrast.momentum=0.9")
    with torch.no_grad():
        for p in model.encoder_q.parameters():
            p.add_(torch.randn_like(p))
    before_k = [p.clone() for p in model.encoder_k.parameters()]
    before_q = [p.clone() for p in model.encoder_q.parameters()]
    model.momentum_update()
    for k, k0, q0 in zip(model.encoder_k.parameters(), before_k, before_q):
        assert torch.allclose(k, 0.9 * k0 + 0.1 * q0, atol=1e-6)
    assert not torch.equal(before_k[0], before_q[0])


def test_class_c_query_takes_negatives_from_queue_c_only(batch: dict) -> None:
    model = model_for()
    labels = batch["view1"]["label"]
    with torch.no_grad():
        model.queues.keys[:, 1:] = float("nan")  # poison the queues of classes 2 and 3
    only_class_1 = labels == 1
    loss, _ = loss_of(model, batch, only_class_1)
    assert torch.isfinite(loss)
    loss, _ = loss_of(model, batch, labels == 2)
    assert torch.isnan(loss)


def test_shuffled_key_groups_are_unshuffled_in_batch_order(batch: dict) -> None:
    model = model_for()
    k = batch["view2"]
    gen = torch.Generator().manual_seed(3)
    shuffled = model.encode_keys(k["image"], k["box"], groups=2, generator=gen)
    order = torch.randperm(8, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        for group in order.chunk(2):
            direct = model.encoder_k(k["image"][group], k["box"][group])
            for level, emb in direct.items():
                assert torch.allclose(shuffled[level][group], emb, atol=1e-6)
        plain = model.encode_keys(k["image"], k["box"])
        assert not torch.allclose(plain["p2"], shuffled["p2"], atol=1e-4)  # BN groups matter in train mode
        model.eval()  # running statistics: grouping and order must not matter at all
        a = model.encode_keys(k["image"], k["box"], groups=4, generator=torch.Generator().manual_seed(1))
        b = model.encode_keys(k["image"], k["box"])
        assert all(torch.allclose(a[lv], b[lv], atol=1e-5) for lv in a)


def test_accumulation_equals_full_batch_without_batch_statistics(batch: dict) -> None:
    """With GroupNorm everywhere, 2 micro-batches of 4 give the 8-batch loss and gradient."""
    gn = ("backbone.norm=gn", "backbone.fpn_norm=gn", "head.norm=gn")
    full, accum = model_for("segloc", *gn), model_for("segloc", *gn)
    loss, _ = loss_of(full, batch)
    loss.backward()
    total = 0.0
    for half in (slice(0, 4), slice(4, 8)):
        part, _ = loss_of(accum, batch, half)
        (part / 2).backward()
        total += part.item() / 2
    assert total == pytest.approx(loss.item(), rel=1e-5)
    for (name, a), b in zip(full.encoder_q.named_parameters(), accum.encoder_q.parameters()):
        assert torch.allclose(a.grad, b.grad, rtol=1e-3, atol=1e-6), name


def test_spread_head_options_train_the_roi_head_and_are_refused_for_moco(batch: dict) -> None:
    spread = ("head.centred=true", "head.fc_norm=true", "head.out_norm=true")
    model = model_for("segloc", *spread)
    loss, stats = loss_of(model, batch)
    loss.backward()
    assert all(p.grad is not None for p in model.encoder_q.head.parameters())
    assert all(float(stats[f"std_{lv}"]) > 0.5 for lv in ("p2", "p3", "p4", "p5"))
    with pytest.raises(ValidationError, match=r"head\.fc_norm"):
        tiny_config("moco", "head.fc_norm=true")
