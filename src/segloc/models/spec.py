"""The backbone spec every task shares (pretraining ``backbone``, fine-tuning ``model``, CHR ``model``):
the same keys for the same network wherever it is configured."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from segloc.config import Config

Arch = Literal["resnet18", "resnet34", "resnet50", "resnet101"]
Norm = Literal["bn", "syncbn", "frozenbn", "gn"]
RESNETS: tuple[str, ...] = get_args(Arch)  # the trunks a detector backbone can have
NORM_KINDS: tuple[str, ...] = get_args(Norm)
# The fields a pretrained backbone and the detector must agree on for the weights to load key for key.
TRANSFERRED = ("arch", "attention", "fpn_norm", "fpn_channels")


class BackboneSpec(Config):
    """ResNet trunk + FPN (+ SDANet attention): what is pretrained, exported and fine-tuned."""

    arch: Arch = "resnet50"
    norm: Norm = Field("bn", description="trunk normalisation")
    fpn_norm: Norm | None = Field("bn", description="FPN normalisation; None: plain convolutions")
    fpn_channels: int = Field(256, gt=0, description="FPN width; pretraining and fine-tuning must agree")
    attention: bool = Field(False, description="SDANet attention after the FPN")
    trainable_layers: int = Field(5, ge=0, le=5, description="trunk stages trained, from the top")

    def differences(self, other: BackboneSpec) -> list[str]:
        """``key: ours vs theirs`` for each transferred field on which the two specs disagree."""
        return [
            f"{key}: {getattr(self, key)!r} vs {getattr(other, key)!r}"
            for key in TRANSFERRED
            if getattr(self, key) != getattr(other, key)
        ]
