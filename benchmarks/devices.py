"""Device plumbing shared by the benchmarks: the device, autocast, synchronised timers, peak memory, and
an engine that runs segloc's real training steps.

CUDA work is asynchronous, so every timer here synchronises the device before it starts and
before it stops; on CPU the same calls are plain timers. Autocast follows segloc's trainers: it
is applied on CUDA only (a CPU run is full precision whatever ``amp`` says).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import torch

from segloc.config import Config
from segloc.engine.loop import Engine, Task

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
GIB = 1024**3


def pick(name: str) -> torch.device:
    """``cpu`` or ``cuda`` (the current GPU); an error when CUDA is asked for and absent."""
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is visible to this torch")
    return torch.device(name)


def effective_amp(device: torch.device, amp: str) -> str:
    """The precision a step actually runs in: ``amp`` on CUDA, ``none`` on CPU."""
    return amp if device.type == "cuda" else "none"


def autocast(device: torch.device, amp: str) -> AbstractContextManager:
    """``torch.autocast`` in bf16/fp16 on CUDA; a no-op for ``none`` or on CPU."""
    if effective_amp(device, amp) == "none":
        return nullcontext()
    return torch.autocast(device_type="cuda", dtype=AMP_DTYPES[amp])


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); nothing on CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], object], device: torch.device) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of ``fn()``, the device synchronised at both ends."""
    sync(device)
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    sync(device)
    return time.perf_counter() - wall, time.process_time() - cpu


def peak_of(fn: Callable[[], object], device: torch.device) -> dict[str, float] | None:
    """Peak allocated and reserved CUDA memory (GiB) during one more ``fn()``; None (and no run) on CPU."""
    if device.type != "cuda":
        return None
    sync(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    sync(device)
    return {
        "allocated": round(torch.cuda.max_memory_allocated(device) / GIB, 3),
        "reserved": round(torch.cuda.max_memory_reserved(device) / GIB, 3),
    }


def allocated_gib(device: torch.device) -> float | None:
    """CUDA memory held by live tensors now (GiB); None on CPU."""
    if device.type != "cuda":
        return None
    sync(device)
    return round(torch.cuda.memory_allocated(device) / GIB, 3)


def describe(device: torch.device) -> dict[str, object]:
    """The device's name, and on CUDA its memory, capability and the CUDA/cuDNN versions."""
    if device.type != "cuda":
        return {"device": "cpu"}
    props = torch.cuda.get_device_properties(device)
    return {
        "device": props.name,
        "memory_gib": round(props.total_memory / GIB, 1),
        "capability": f"{props.major}.{props.minor}",
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
    }


def step_engine(
    model: torch.nn.Module, config: Config, device: torch.device, step: Callable[[Any, Engine], dict[str, torch.Tensor]]
) -> Engine:
    """An engine around ``model`` whose ``train_step(batch)`` is the real one of a segloc run: the task's
    ``step`` function (forward, backward per micro-batch), then the engine's clipping, AMP scaler,
    optimizer and schedule."""

    class _Bench(Task):
        name, steps_per_epoch = "bench", 1

        def __init__(self) -> None:
            self.model = model

        def step(self, batch: Any, engine: Engine) -> dict[str, torch.Tensor]:
            return step(batch, engine)

    return Engine.detached(_Bench(), config, device, Path("."))
