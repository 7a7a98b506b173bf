"""CHR: class-balanced hierarchical refinement classifier (SIXray paper, section 4).

Three levels of a backbone (ResNet: layer2/3/4, 28/14/7 px at 224 input) each feed a GAP + linear
classifier; the per-level logits are averaged at test time (paper eqn 5). Details follow the
authors' code (MeioJane/CHR, ``models.py``):

- top level: 1x1 conv (C3 -> C3) + ReLU, then GAP and the classifier;
- middle level: 1x1 conv (C2 -> C2) + ReLU on the layer3 map, concatenated with the bilinearly
  upsampled *raw* top map, then 1x1 conv (C3 + C2 -> C2) + ReLU;
- bottom level: the same with the *refined* middle map: 1x1 conv (C1 -> C1) + ReLU, concat with
  the upsampled refined middle map, 1x1 conv (C2 + C1 -> C1) + ReLU;
- outputs are ordered top level first (the loss masks top-down in that order).

Ablations of Table 4 come from two switches: ``levels`` (1: plain backbone + classifier on the
last level; 3: hierarchical) and ``refine`` (reversed connections). Without refinement each level
keeps its 1x1 conv + ReLU and is classified on its own (our reading of "+H", which the paper does
not spell out). The class-balanced loss is a separate switch (``loss.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision import models

from segloc.models.spec import RESNETS

log = logging.getLogger(__name__)

BACKBONES = RESNETS + ("densenet121", "inception_v3")
# Children of each torchvision body whose outputs are the three levels (low, middle, high).
TAPS = {
    **{arch: ("layer2", "layer3", "layer4") for arch in RESNETS},
    "densenet121": ("denseblock2", "denseblock3", "norm5"),
    "inception_v3": ("Mixed_5d", "Mixed_6e", "Mixed_7c"),
}
# Head modules removed from each body (DenseNet's body is its ``features``, which has no head).
HEADS = {
    **{arch: ("fc", "avgpool") for arch in RESNETS},
    "densenet121": (),
    "inception_v3": ("fc", "avgpool", "dropout"),
}


@dataclass(frozen=True)
class Variant:
    """One row of the paper's Table 4: how many levels, refinement on/off, class-balanced loss on/off."""

    levels: int
    refine: bool
    balanced: bool


VARIANTS = {
    "baseline": Variant(levels=1, refine=False, balanced=False),
    "h": Variant(levels=3, refine=False, balanced=False),
    "ch": Variant(levels=3, refine=False, balanced=True),
    "hr": Variant(levels=3, refine=True, balanced=False),
    "chr": Variant(levels=3, refine=True, balanced=True),
}


def get_variant(name: str) -> Variant:
    """The Table 4 variant called ``name`` (baseline, h, ch, hr, chr)."""
    if name not in VARIANTS:
        raise ValueError(f"unknown CHR variant {name!r}; expected one of {', '.join(VARIANTS)}")
    return VARIANTS[name]


class Trunk(nn.Module):
    """A torchvision classification network without its head, returning three feature maps.

    ``body`` keeps the torchvision child names, so a ResNet trunk's state keys are
    ``body.conv1.weight``, ``body.layer1.0...``: the segloc backbone export layout.
    """

    def __init__(self, body: nn.Module, taps: Sequence[str], relu_last: bool = False) -> None:
        super().__init__()
        self.body = body
        self.taps = tuple(taps)
        self.relu_last = relu_last

    def forward(self, x: Tensor) -> list[Tensor]:
        found = []
        for name, module in self.body.named_children():
            x = module(x)
            if name in self.taps:
                found.append(x)
                if len(found) == len(self.taps):
                    break
        if self.relu_last:
            found[-1] = F.relu(found[-1])
        return found


def build_trunk(arch: str, weights: str | Path | None = None) -> tuple[Trunk, tuple[int, int, int]]:
    """A randomly initialised (never downloaded) trunk for ``arch`` and its three channel counts.

    ``weights``: an optional local file in torchvision or segloc layout, loaded with
    ``torch.load(weights_only=True)`` or safetensors and checked key by key.
    """
    if arch not in BACKBONES:
        raise ValueError(f"unknown backbone {arch!r}; expected one of {', '.join(BACKBONES)}")
    if arch in RESNETS:
        full: nn.Module = getattr(models, arch)(weights=None)
        top = full.fc.in_features
        channels = (top // 4, top // 2, top)
    elif arch == "densenet121":
        full, channels = models.densenet121(weights=None), (512, 1024, 1024)
    else:
        full = models.inception_v3(weights=None, aux_logits=False, init_weights=True)
        channels = (288, 768, 2048)
    if weights is not None:
        from segloc.models.weights import load_backbone_weights

        log.info("%s", load_backbone_weights(full, weights).summary())
    body = full.features if arch == "densenet121" else full
    for name in HEADS[arch]:
        delattr(body, name)
    relu_last = arch == "densenet121"
    return Trunk(body, TAPS[arch], relu_last), channels


def _conv_relu(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size=1), nn.ReLU(inplace=True))


def _upsample_cat(high: Tensor, low: Tensor) -> Tensor:
    """Upsample ``high`` to ``low``'s size (bilinear) and concatenate [high, low] on channels.

    The upsampling reads a channels-last copy: PyTorch's bilinear kernel for channels-first maps
    of many channels and few pixels is slow (on an H200 it took 35 of ResNet-101 CHR's 47 ms at
    batch 32); channels-last gives the same values.
    """
    up = F.interpolate(
        high.contiguous(memory_format=torch.channels_last), size=low.shape[-2:], mode="bilinear", align_corners=False
    )
    return torch.cat([up, low], dim=1)


class CHRNet(nn.Module):
    """Backbone + (hierarchical, optionally refined) multi-label classifiers.

    ``forward`` returns the per-level logits, top level first: a tuple of (B, num_classes)
    tensors (one tensor for the baseline). ``predict`` averages them; ``cams`` gives class
    activation maps.
    """

    def __init__(
        self,
        arch: str = "resnet34",
        num_classes: int = 5,
        variant: str = "chr",
        weights: str | Path | None = None,
    ) -> None:
        super().__init__()
        spec = get_variant(variant)
        self.arch, self.variant, self.num_classes = arch, variant, num_classes
        self.levels, self.refine = spec.levels, spec.refine
        self.trunk, (c1, c2, c3) = build_trunk(arch, weights)
        if self.levels == 1:
            self.lateral = nn.ModuleList()
            self.fuse = nn.ModuleList()
            dims = [c3]
        else:
            self.lateral = nn.ModuleList([_conv_relu(c3, c3), _conv_relu(c2, c2), _conv_relu(c1, c1)])
            fuse = [_conv_relu(c3 + c2, c2), _conv_relu(c2 + c1, c1)] if self.refine else []
            self.fuse = nn.ModuleList(fuse)
            dims = [c3, c2, c1]
        self.classifiers = nn.ModuleList([nn.Linear(d, num_classes) for d in dims])

    def level_maps(self, x: Tensor) -> list[Tensor]:
        """The feature maps each classifier pools, top level first."""
        low, mid, high = self.trunk(x)
        if self.levels == 1:
            return [high]
        top = self.lateral[0](high)
        if not self.refine:
            return [top, self.lateral[1](mid), self.lateral[2](low)]
        mid_refined = self.fuse[0](_upsample_cat(high, self.lateral[1](mid)))
        low_refined = self.fuse[1](_upsample_cat(mid_refined, self.lateral[2](low)))
        return [top, mid_refined, low_refined]

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        maps = self.level_maps(x)
        return tuple(fc(m.mean(dim=(2, 3))) for fc, m in zip(self.classifiers, maps))

    def predict(self, x: Tensor) -> Tensor:
        """Test-time logits: the mean of the levels' logits (paper eqn 5)."""
        return torch.stack(self(x)).mean(dim=0)

    def cams(self, x: Tensor, size: tuple[int, int] | None = None) -> Tensor:
        """Class activation maps (B, num_classes, H, W), averaged over levels.

        Each level's map is its classifier applied at every position (so its spatial mean is
        that level's logit); maps are upsampled bilinearly to ``size`` (default: the input's).
        """
        return self.logits_and_cams(x, size)[1]

    def logits_and_cams(self, x: Tensor, size: tuple[int, int] | None = None) -> tuple[Tensor, Tensor]:
        """``predict``'s logits and ``cams``'s maps from one pass through the network."""
        size = tuple(size) if size is not None else tuple(x.shape[-2:])
        logits, total = [], None
        for fc, fmap in zip(self.classifiers, self.level_maps(x)):
            logits.append(fc(fmap.mean(dim=(2, 3))))
            cam = torch.einsum("cd,bdhw->bchw", fc.weight, fmap) + fc.bias[None, :, None, None]
            cam = F.interpolate(cam, size=size, mode="bilinear", align_corners=False)
            total = cam if total is None else total + cam
        return torch.stack(logits).mean(dim=0), total / len(self.classifiers)
