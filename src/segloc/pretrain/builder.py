"""The contrastive model (MoCo v2 layout): query encoder, momentum key encoder, queues, loss.

MoCo v2, InsLoc and SegLoc differ only in what is plugged in:

- the encoder: :class:`GlobalEncoder` (MoCo v2: pooled C5 -> MLP) or :class:`RoIEncoder`
  (InsLoc/SegLoc: the pasted box RoIAligned from every pyramid level -> shared head);
- the queue bank: :class:`~segloc.pretrain.queues.LevelQueues` (one queue per level, all keys)
  or :class:`~segloc.pretrain.queues.ClassQueues` (SegLoc: one queue per class and level;
  a class-c query is contrasted with queue c, which never holds a class-c key).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor, nn

from segloc.engine import all_gather_cat
from segloc.models import BackboneWithFPN, GlobalEmbeddingHead, RoIEmbeddingHead, build_backbone
from segloc.pretrain.config import PretrainConfig
from segloc.pretrain.loss import contrastive_logits, info_nce, positive_rank
from segloc.pretrain.queues import ClassQueues, LevelQueues
from segloc.pretrain.shuffle import gather_padded, key_order, rank_and_world

COLLAPSED_STD = 0.05  # embedding_std below this: the head maps (nearly) every input to one vector


def chance_loss(config: PretrainConfig) -> float:
    """The logged loss (summed over levels) of a model whose positive and negatives all score alike:
    ln(1 + queue_size) per level. A collapsed head reaches it and a spread head that has learned nothing
    sits above it, so the logged ``rank`` (0.5 at chance) is what tells whether the pretext is learned, with
    MoCo's slow key encoder: a fast one lets the current keys beat the stale queue without learning."""
    levels = 1 if config.method == "moco" else len(config.head.levels or config.backbone.fpn_levels)
    return levels * math.log(1 + config.contrast.queue_size)


def embedding_std(embeddings: Tensor) -> Tensor:
    """Collapse monitor: per-dimension std of unit embeddings over the batch, times sqrt(dim).

    About 1 for embeddings spread over the sphere, 0 when every input maps to one vector (a
    collapsed head, whose InfoNCE loss sits at log(1 + negatives) whatever its accuracy says).
    """
    return embeddings.float().std(0).mean() * embeddings.shape[1] ** 0.5


class RoIEncoder(nn.Module):
    """Backbone + InsLoc head: the box of each image -> one unit embedding per pyramid level."""

    def __init__(self, backbone: BackboneWithFPN, head: RoIEmbeddingHead) -> None:
        super().__init__()
        self.backbone, self.head = backbone, head
        self.levels = head.levels

    def forward(self, images: Tensor, boxes: Tensor) -> dict[str, Tensor]:
        """``images [B, 3, H, W]``, ``boxes [B, 4]`` (xyxy pixels) -> ``{level: [B, dim]}``."""
        return self.head(self.backbone(images), list(boxes.unsqueeze(1)))


class GlobalEncoder(nn.Module):
    """MoCo v2: the trunk's C5, average-pooled, through the MLP; boxes are ignored.

    The FPN (and attention) stay in the module, frozen at their initial values, so that the
    export has the detector's layout; only the trunk and the MLP learn.
    """

    levels = ("global",)

    def __init__(self, backbone: BackboneWithFPN, head: GlobalEmbeddingHead) -> None:
        super().__init__()
        self.backbone, self.head = backbone, head
        backbone.fpn.requires_grad_(False)
        if backbone.attention is not None:
            backbone.attention.requires_grad_(False)

    def forward(self, images: Tensor, boxes: Tensor) -> dict[str, Tensor]:
        """``images [B, 3, H, W]`` -> ``{"global": [B, dim]}``."""
        return {"global": self.head(self.backbone.body(images)["c5"])}


class ContrastiveModel(nn.Module):
    """Query encoder, its momentum copy (the key encoder) and the dictionary of negative keys.

    ``forward`` computes the query side's loss (InfoNCE per level, summed) against keys from
    :meth:`encode_keys`; after the optimizer step :meth:`enqueue` adds the keys (of all ranks).
    """

    def __init__(
        self,
        encoder: RoIEncoder | GlobalEncoder,
        queues: LevelQueues,
        momentum: float = 0.999,
        temperature: float = 0.2,
        pad_value: Tensor | None = None,
    ) -> None:
        super().__init__()
        if tuple(encoder.levels) != queues.levels:
            raise ValueError(f"encoder levels {encoder.levels} differ from queue levels {queues.levels}")
        self.encoder_q = encoder
        self.encoder_k = copy.deepcopy(encoder).requires_grad_(False)
        self.queues = queues
        self.momentum = momentum
        self.temperature = temperature
        self.register_buffer("pad_value", torch.zeros(3) if pad_value is None else pad_value, persistent=False)

    @torch.no_grad()
    def momentum_update(self) -> None:
        """key_params <- m * key_params + (1 - m) * query_params (buffers are not averaged)."""
        keys = list(self.encoder_k.parameters())
        queries = [p.detach() for p in self.encoder_q.parameters()]
        torch._foreach_lerp_(keys, queries, 1.0 - self.momentum)

    @torch.no_grad()
    def encode_keys(
        self, images: Tensor, boxes: Tensor, groups: int = 1, generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """Key embeddings (float32, batch order), with BatchNorm statistics per group of images.

        With a ``generator`` (shuffle-BN) the batch of all ranks is gathered, randomly permuted
        and cut into ``world * groups`` groups, each rank embedding its own groups; a key thus
        never shares BN statistics with exactly its query's batch. Without one, the rank's batch
        is cut in order (with ``groups`` = accumulation steps: the same groups as the queries).
        """
        rank, world = rank_and_world()
        local = images.shape[0]
        shuffle_ranks = generator is not None and world > 1
        if shuffle_ranks:
            images, boxes = gather_padded(images, boxes, self.pad_value)
        order = key_order(images.shape[0], generator).to(images.device)
        mine = order.view(world, -1)[rank] if shuffle_ranks else order
        parts = [self.encoder_k(images[idx], boxes[idx]) for idx in mine.chunk(groups)]
        out = {}
        for level in parts[0]:
            embedded = torch.cat([p[level] for p in parts]).float()
            if shuffle_ranks:
                embedded = all_gather_cat(embedded)
            restored = torch.empty_like(embedded)
            restored[order] = embedded
            out[level] = restored[rank * local : (rank + 1) * local] if shuffle_ranks else restored
        return out

    def forward(
        self, images: Tensor, boxes: Tensor, labels: Tensor, keys: dict[str, Tensor]
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Loss of the queries ``(images, boxes)`` of class ``labels`` against their ``keys``.

        Returns the loss summed over levels and detached per-level losses, accuracies, positive
        ranks (:func:`~segloc.pretrain.loss.positive_rank`) and embedding spreads (:func:`embedding_std`).
        """
        queries = self.encoder_q(images, boxes)
        queue = self.queues.queue_index(labels)  # SegLoc: the query's class queue; else queue 0
        total = torch.zeros((), device=images.device)
        stats = {}
        for i, (level, query) in enumerate(queries.items()):
            logits = contrastive_logits(query.float(), keys[level], self.queues.keys[i], queue, self.temperature)
            loss, accuracy = info_nce(logits)
            total = total + loss
            stats[f"loss_{level}"], stats[f"acc_{level}"] = loss.detach(), accuracy
            stats[f"rank_{level}"] = positive_rank(logits)
            stats[f"std_{level}"] = embedding_std(query.detach())
        return total, stats

    @torch.no_grad()
    def enqueue(self, keys: dict[str, Tensor], labels: Tensor) -> None:
        """Add the keys of every rank (rank order) to the queues that accept them."""
        stacked = torch.stack([keys[level] for level in self.queues.levels], dim=1)
        gathered = all_gather_cat(stacked).transpose(0, 1)
        self.queues.enqueue(gathered, all_gather_cat(labels))


def build_backbone_from(config: PretrainConfig, weights: bool = True) -> BackboneWithFPN:
    """The backbone a config describes (with its initial weights file unless ``weights=False``)."""
    b = config.backbone
    return build_backbone(
        arch=b.arch,
        norm=b.norm,
        fpn_levels=b.fpn_levels,
        fpn_norm=b.fpn_norm,
        out_channels=b.fpn_channels,
        attention=b.attention,
        trainable_layers=b.trainable_layers,
        checkpointing=b.checkpointing,
        weights=b.weights if weights else None,
    )


def build_model(
    config: PretrainConfig, classes: list[int] | None = None, pad_value: Tensor | None = None
) -> ContrastiveModel:
    """The contrastive model of ``config.method``; SegLoc needs the dataset's class ids."""
    backbone, head, contrast = build_backbone_from(config), config.head, config.contrast
    if config.method == "moco":
        encoder: RoIEncoder | GlobalEncoder = GlobalEncoder(
            backbone, GlobalEmbeddingHead.for_arch(config.backbone.arch, head.dim)
        )
    else:
        encoder = RoIEncoder(
            backbone,
            RoIEmbeddingHead(
                head.levels or backbone.levels,
                backbone.out_channels,
                head.roi_size,
                head.num_convs,
                fc_dim=head.fc_dim,
                out_dim=head.dim,
                norm=head.norm,
                batch_levels=head.batch_levels,
                centred=head.centred,
                fc_norm=head.fc_norm,
                out_norm=head.out_norm,
            ),
        )
    if config.method == "segloc":
        if not classes:
            raise ValueError("SegLoc's class queues need the class ids of the pairs")
        queues: LevelQueues = ClassQueues(encoder.levels, classes, head.dim, contrast.queue_size)
    else:
        queues = LevelQueues(encoder.levels, head.dim, contrast.queue_size)
    return ContrastiveModel(encoder, queues, contrast.momentum, contrast.temperature, pad_value)
