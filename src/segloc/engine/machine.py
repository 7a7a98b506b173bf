"""The machine a run or a benchmark ran on, recorded beside every figure it produced."""

from __future__ import annotations

import os
import platform

import torch


def machine_info() -> dict:
    """Platform, CPU count, torch threads, Python and torch versions, and the device (a GPU's name or cpu)."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
    }
