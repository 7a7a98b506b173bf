"""ResNet trunk + FPN (+ SDANet attention): the one network shared by pretraining and detection."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint
from torchvision.models import ResNet, resnet18, resnet34, resnet50, resnet101

from segloc.models.fpn import FPN, check_levels, level_stride
from segloc.models.norms import make_norm
from segloc.models.sdanet import SDAAttention
from segloc.models.weights import load_backbone_weights

log = logging.getLogger(__name__)

RESNETS = {"resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50, "resnet101": resnet101}
STAGES = ("layer1", "layer2", "layer3", "layer4")
TRAINABLE_ORDER = ("layer4", "layer3", "layer2", "layer1", "conv1")


def build_resnet(arch: str = "resnet50", norm: str = "bn", weights: str | Path | None = None) -> ResNet:
    """A torchvision ResNet with the given norm, randomly initialised or from a user weights file.

    Never downloads: ``weights`` is a local file (torchvision or segloc layout, see ``weights.py``).
    """
    if arch not in RESNETS:
        raise ValueError(f"unknown arch {arch!r}; expected one of {', '.join(RESNETS)}")
    model = RESNETS[arch](weights=None, norm_layer=make_norm(norm))
    if weights is not None:
        log.info("%s", load_backbone_weights(model, weights).summary())
    return model


def trunk_channels(arch: str) -> list[int]:
    """Output channels of C2..C5 for a ResNet arch (64..512 basic blocks, 256..2048 bottlenecks)."""
    if arch not in RESNETS:
        raise ValueError(f"unknown arch {arch!r}; expected one of {', '.join(RESNETS)}")
    top = 512 if arch in ("resnet18", "resnet34") else 2048
    return [top // 8, top // 4, top // 2, top]


@contextmanager
def _keep_running_stats(module: nn.Module) -> Iterator[None]:
    """Undo BatchNorm running-stat updates made inside the block (checkpoint recomputation)."""
    bns = [m for m in module.modules() if isinstance(m, nn.BatchNorm2d | nn.SyncBatchNorm) and m.track_running_stats]
    saved = [[t.clone() for t in (m.running_mean, m.running_var, m.num_batches_tracked)] for m in bns]
    try:
        yield
    finally:
        with torch.no_grad():
            for m, (mean, var, count) in zip(bns, saved):
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(count)


class ResNetTrunk(nn.Module):
    """A torchvision ResNet without avgpool/fc, returning {"c2".."c5"}; keys match torchvision's.

    With ``checkpointing`` the four stages are recomputed in backward (torch.utils.checkpoint,
    non-reentrant); BatchNorm running statistics are updated once per step, not twice.
    """

    def __init__(self, resnet: ResNet, channels: Sequence[int], checkpointing: bool = False) -> None:
        super().__init__()
        self.conv1, self.bn1, self.relu, self.maxpool = resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4
        self.channels = list(channels)
        self.checkpointing = checkpointing

    def _stage(self, stage: nn.Module, x: Tensor) -> Tensor:
        if not (self.checkpointing and torch.is_grad_enabled()):
            return stage(x)
        return checkpoint(stage, x, use_reentrant=False, context_fn=lambda: (nullcontext(), _keep_running_stats(stage)))

    def forward(self, images: Tensor) -> OrderedDict[str, Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        out: OrderedDict[str, Tensor] = OrderedDict()
        for i, name in enumerate(STAGES):
            x = self._stage(getattr(self, name), x)
            out[f"c{i + 2}"] = x
        return out


class BackboneWithFPN(nn.Module):
    """ResNet trunk (``body``) + FPN (``fpn``) + optional SDANet attention (``attention``).

    ``forward(images)`` returns an OrderedDict ``{"p2": ..., ...}`` of ``out_channels``-channel
    maps, so it plugs into torchvision.models.detection (set featmap_names to ``self.levels``
    minus "p6" for MultiScaleRoIAlign). The same keys are written by pretraining and read by the
    detector.
    """

    def __init__(
        self,
        arch: str = "resnet50",
        norm: str = "bn",
        fpn_levels: Sequence[str] = ("p2", "p3", "p4", "p5"),
        extra_p6: bool | None = None,
        fpn_norm: str | None = "bn",
        attention: bool = False,
        attention_norm: str = "bn",
        trainable_layers: int = 5,
        checkpointing: bool = False,
        out_channels: int = 256,
    ) -> None:
        super().__init__()
        levels = check_levels(fpn_levels)
        if extra_p6 is True and "p6" not in levels:
            levels = (*levels, "p6")
        if extra_p6 is False and "p6" in levels:
            raise ValueError(f"extra_p6=False contradicts fpn_levels={tuple(fpn_levels)}")
        if not 0 <= trainable_layers <= 5:
            raise ValueError(f"trainable_layers must be in 0..5, got {trainable_layers}")
        channels = trunk_channels(arch)
        self.body = ResNetTrunk(build_resnet(arch, norm), channels, checkpointing=checkpointing)
        self.fpn = FPN(channels, levels, out_channels=out_channels, norm=fpn_norm)
        self.attention = SDAAttention(out_channels, num_levels=len(levels), norm=attention_norm) if attention else None
        self.levels = levels
        self.strides = {lv: level_stride(lv) for lv in levels}
        self.out_channels = out_channels
        self.config = {
            "arch": arch,
            "norm": norm,
            "fpn_levels": list(levels),
            "fpn_norm": fpn_norm,
            "attention": attention,
            "attention_norm": attention_norm,
            "out_channels": out_channels,
        }
        self.frozen = self._freeze(trainable_layers)

    def _freeze(self, trainable_layers: int) -> tuple[str, ...]:
        trainable = set(TRAINABLE_ORDER[:trainable_layers])
        if trainable_layers == 5:
            trainable.add("bn1")
        frozen = tuple(name for name in ("conv1", "bn1", *STAGES) if name not in trainable)
        for name in frozen:
            getattr(self.body, name).requires_grad_(False)
        return frozen

    def train(self, mode: bool = True) -> BackboneWithFPN:
        """Train mode everywhere except frozen trunk parts, whose norms keep their statistics."""
        super().train(mode)
        for name in self.frozen:
            getattr(self.body, name).eval()
        return self

    def forward(self, images: Tensor) -> OrderedDict[str, Tensor]:
        pyramid = self.fpn(self.body(images))
        if self.attention is None:
            return pyramid
        return OrderedDict(zip(pyramid.keys(), self.attention(list(pyramid.values()))))


def build_backbone(
    arch: str = "resnet50",
    norm: str = "bn",
    fpn_levels: Sequence[str] = ("p2", "p3", "p4", "p5"),
    extra_p6: bool | None = None,
    fpn_norm: str | None = "bn",
    attention: bool = False,
    trainable_layers: int = 5,
    checkpointing: bool = False,
    out_channels: int = 256,
    attention_norm: str = "bn",
    weights: str | Path | None = None,
) -> BackboneWithFPN:
    """Build the shared ResNet+FPN(+SDANet) network; optionally load a weights file into it.

    ``weights`` may be a segloc export or a torchvision ResNet file (trunk only); loading fails
    loudly when less than half of the trunk is covered. Frozen layers keep the file's values.
    """
    model = BackboneWithFPN(
        arch=arch,
        norm=norm,
        fpn_levels=fpn_levels,
        extra_p6=extra_p6,
        fpn_norm=fpn_norm,
        attention=attention,
        attention_norm=attention_norm,
        trainable_layers=trainable_layers,
        checkpointing=checkpointing,
        out_channels=out_channels,
    )
    if weights is not None:
        log.info("%s", load_backbone_weights(model, weights).summary())
    return model
