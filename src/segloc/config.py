"""Typed YAML configs: pydantic models, ``--set a.b=value`` overrides, clear validation errors."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from segloc.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
PACKAGE_DIR = Path(__file__).resolve().parent
# Where segloc's own configs live: the checkout's top-level configs/ (a clone, an editable install) and the
# copy a built wheel ships inside the package (setup.py copies configs/ there).
CONFIG_ROOTS = (PACKAGE_DIR.parents[1] / "configs", PACKAGE_DIR / "configs")


class Config(BaseModel):
    """Base of every segloc config: unknown keys are errors (typos never pass silently)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())


def apply_overrides(data: dict, overrides: Sequence[str]) -> dict:
    """Apply ``key.sub=value`` strings (values parsed as YAML) to a nested dict, in place."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key.sub=value")
        key, raw = item.split("=", 1)
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a section")
            node = child
        node[parts[-1]] = yaml.safe_load(raw)
    return data


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def find_config(path: Path | str, kind: str = "experiment") -> Path:
    """Resolve a config: a user's own YAML path as given, else the same path among segloc's configs
    (``configs/pretrain/x.yaml``), else a bare name in ``configs/<kind>/`` (``demo``)."""
    path = Path(path)
    inner = Path(*path.parts[1:]) if path.parts[:1] == ("configs",) and len(path.parts) > 1 else path
    roots = [root for root in CONFIG_ROOTS if root.is_dir()]
    candidates = [path, *(root / inner for root in roots), *(root / kind / f"{path.name}.yaml" for root in roots)]
    for candidate in dict.fromkeys(candidates):
        if candidate.is_file():
            return candidate
    raise ConfigError(f"{path}: config not found (looked in {', '.join(str(c) for c in dict.fromkeys(candidates))})")


def load_config(path: Path | str | None, model: type[M], overrides: Sequence[str] = ()) -> M:
    """Read YAML ``path`` (or start empty), apply overrides, validate against ``model``."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the top level must be a mapping")
    apply_overrides(data, overrides)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path or 'config'}: invalid configuration:\n{_format_errors(exc)}") from exc


def save_config(config: BaseModel, path: Path | str) -> None:
    """Write the resolved config next to a run, so the run can be reproduced and resumed."""
    Path(path).write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), encoding="utf-8")


def changed_keys(before: dict, after: dict, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested config dicts, as ``key (old -> new)``."""
    changes = []
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key), after.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            changes += changed_keys(old, new, f"{prefix}{key}.")
        elif old != new:
            changes.append(f"{prefix}{key} ({old!r} -> {new!r})")
    return changes
