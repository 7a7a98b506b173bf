"""The shared sections of every training config, one vocabulary for pretraining, fine-tuning and CHR:
``optim`` (SGD, schedule, warm-up, clipping) and ``train`` (length, global batch, precision, bookkeeping).
Each task subclasses them only to change defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import Field, field_validator, model_validator

from segloc.config import Config
from segloc.engine.schedule import cosine_with_warmup, multistep_with_warmup

Precision = Literal["none", "bf16", "fp16"]


class OptimConfig(Config):
    """SGD with momentum (or AdamW); ``lr`` is for a global batch of ``lr_batch`` and scaled linearly to
    ``train.batch_size``."""

    name: Literal["sgd", "adamw"] = Field(
        "sgd",
        description="sgd (the papers' recipes) or adamw (converges in fewer steps from random init: short CPU runs)",
    )
    lr: float = Field(0.02, gt=0.0)
    lr_batch: int | None = Field(None, gt=0, description="global batch the lr refers to; None: the lr as given")
    momentum: float = Field(0.9, ge=0.0)
    weight_decay: float = Field(1e-4, ge=0.0)
    nesterov: bool = False
    schedule: Literal["cosine", "multistep"] = "multistep"
    milestones: list[float] = Field(
        default_factory=list, description="multistep: epochs (fractions allowed) at which lr is x gamma"
    )
    gamma: float = Field(0.1, gt=0.0)
    warmup_steps: int = Field(0, ge=0)
    warmup_start: float = Field(0.001, gt=0.0, le=1.0, description="lr factor at step 0 of the linear warm-up")
    grad_clip: float | None = Field(None, gt=0.0, description="max gradient norm; None: no clipping")

    def scaled_lr(self, batch_size: int) -> float:
        """The learning rate for a global batch of ``batch_size`` (linear scaling rule)."""
        return self.lr if self.lr_batch is None else self.lr * batch_size / self.lr_batch

    def lr_factor(self, total_steps: int, steps_per_epoch: int) -> Callable[[int], float]:
        """The schedule as a multiplier per step (for ``LambdaLR``)."""
        if self.schedule == "cosine":
            return cosine_with_warmup(total_steps, self.warmup_steps, self.warmup_start)
        return multistep_with_warmup(
            [round(m * steps_per_epoch) for m in self.milestones], self.gamma, self.warmup_steps, self.warmup_start
        )


class TrainConfig(Config):
    """Run length, global batch, precision and bookkeeping; the engine reads this section."""

    batch_size: int = Field(16, gt=0, description="global: samples per optimizer step over all processes")
    accum_steps: int = Field(1, gt=0, description="micro-batches per optimizer step on each process")
    epochs: float = Field(1.0, gt=0.0)
    steps: int | None = Field(None, gt=0, description="run length in optimizer steps (replaces epochs)")
    seed: int = 0
    device: str = "auto"
    amp: Precision = Field("none", description="mixed precision on CUDA: none, bf16 or fp16 (full precision on CPU)")
    channels_last: bool = False
    threads: int | None = Field(None, gt=0, description="torch CPU threads; None: torch's default")
    log_every: int = Field(20, gt=0)
    checkpoint_every: int = Field(1000, gt=0, description="steps between checkpoints (also at epoch ends)")
    keep_checkpoints: int = Field(2, gt=0)
    progress: bool = True
    tensorboard: bool = True

    @field_validator("amp", mode="before")
    @classmethod
    def _no_bool(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("train.amp is now one of none, bf16, fp16 (true/false are no longer accepted)")
        return value

    @model_validator(mode="after")
    def _accumulation(self) -> TrainConfig:
        if self.batch_size % self.accum_steps:
            raise ValueError(f"batch_size {self.batch_size} is not divisible by accum_steps {self.accum_steps}")
        return self

    def total_steps(self, steps_per_epoch: int) -> int:
        """The run's length: ``steps`` when set, else ``epochs`` of ``steps_per_epoch`` (at least one)."""
        return self.steps or max(1, int(self.epochs * steps_per_epoch))
