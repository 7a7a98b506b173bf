"""Typed YAML configs: pydantic models, ``--set a.b=value`` overrides, clear validation errors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from segloc.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
PACKAGE_DIR = Path(__file__).resolve().parent
# Where segloc's own configs live: the checkout's top-level configs/ (a clone, an editable install) and the
# copy a built wheel ships inside the package (setup.py copies configs/ there).
CONFIG_ROOTS = (PACKAGE_DIR.parents[1] / "configs", PACKAGE_DIR / "configs")


class Config(BaseModel):
    """Base of every segloc config: unknown keys are errors (typos never pass silently), and a key of an
    older vocabulary (listed in ``RENAMED``, old dotted key -> new) is an error naming its new key."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())
    RENAMED: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        old = [key for key in cls.RENAMED if isinstance(data, dict) and _pop(data, key, remove=False) is not _MISSING]
        if old:
            raise ValueError("; ".join(f"{key} is now {cls.RENAMED[key]}" for key in old))
        return data

    @classmethod
    def from_saved(cls: type[M], data: dict) -> M:
        """Validate a config a run folder saved, moving the keys an older segloc wrote to their new names."""
        return cls.model_validate(upgrade_saved(data, cls.RENAMED))  # type: ignore[attr-defined]


_MISSING = object()


def _pop(data: dict, dotted: str, remove: bool = True) -> Any:
    """The value at ``a.b.c`` of a nested dict (removed with ``remove``), or ``_MISSING``."""
    *parents, last = dotted.split(".")
    node: Any = data
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or last not in node:
        return _MISSING
    return node.pop(last) if remove else node[last]


def upgrade_saved(data: dict, renamed: dict[str, str]) -> dict:
    """A copy of a saved config with old keys moved to their new names (and a boolean ``train.amp``
    read as bf16 / none), so run folders of an older segloc still load."""
    data = yaml.safe_load(yaml.safe_dump(data))
    for old, new in renamed.items():
        value = _pop(data, old)
        if value is not _MISSING:
            *parents, last = new.split(".")
            node = data
            for part in parents:
                node = node.setdefault(part, {})
            node.setdefault(last, value)
    for section in data.values():
        if isinstance(section, dict) and isinstance(section.get("amp"), bool):
            section["amp"] = "bf16" if section["amp"] else "none"
    for section in [k for k, v in data.items() if v == {}]:
        del data[section]
    return data


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


def load_saved_config(path: Path | str, model: type[M]) -> M:
    """A config a run folder saved (``config.yaml``), read with the key moves of :meth:`Config.from_saved`."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return model.from_saved(data if isinstance(data, dict) else {})  # type: ignore[attr-defined]
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the saved config: {exc}") from exc
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid configuration:\n{_format_errors(exc)}") from exc


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
