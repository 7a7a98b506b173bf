"""Package exports that load their module on first use, so that reading a config or ``segloc --help``
imports no torch."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, homes: dict[str, tuple[str, ...]]) -> tuple[list[str], Callable[[str], object]]:
    """``(__all__, __getattr__)`` for ``package``: each name of ``homes`` (module -> names; a module with a
    leading dot is inside the package) is imported from its module when first asked for."""
    module_of = {name: module for module, names in homes.items() for name in names}

    def __getattr__(name: str) -> object:
        if name not in module_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module_of[name], package), name)

    return sorted(module_of), __getattr__
