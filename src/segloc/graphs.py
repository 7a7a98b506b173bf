"""Traced exports of segloc networks: ONNX and TorchScript files carrying JSON metadata, written atomically.

Both formats come from tracing the module once on an example input with the TorchScript tracer
(torch.onnx's legacy exporter for ONNX, whose symbolic shapes let any input size run); the
tracer's notes about shapes are expected and silenced. A failed export leaves nothing behind.
"""
from __future__ import annotations

import inspect
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn


METADATA_KEY = "segloc"
TORCHSCRIPT_METADATA = f"{METADATA_KEY}.json"
ONNX_OPSET = 17


def write_atomically(out: Path | str, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``out`` and rename it to ``out`` when it succeeds."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out


def trace_onnx(module: nn.Module, example: Tensor, path: Path, outputs: list[str],
               dynamic_axes: dict[str, dict[int, str]], metadata: dict) -> None:
    """Trace ``module`` on ``example`` (input name ``image``) into ONNX at ``path`` with ``metadata``."""
    import onnx

    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), str(path), input_names=["image"], output_names=outputs,
                          dynamic_axes=dynamic_axes, opset_version=ONNX_OPSET, **legacy)
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
    onnx.save(proto, str(path))


def trace_torchscript(module: nn.Module, example: Tensor, path: Path, metadata: dict) -> None:
    """Trace ``module`` on ``example`` into a TorchScript archive at ``path`` with ``metadata``."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, (example,), check_trace=False)
        torch.jit.save(traced, str(path), _extra_files={TORCHSCRIPT_METADATA: json.dumps(metadata)})


def noise_scan(size: int) -> Tensor:
    """A fixed uint8 (3/4 size, size, 3) noise scan to trace graphs with."""
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (size * 3 // 4, size, 3), dtype=torch.uint8, generator=generator)
