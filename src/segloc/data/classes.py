"""Class-name files of the box formats (YOLO, VOC): one name a line, or a YAML file's ``names``."""
from __future__ import annotations

from pathlib import Path

import yaml

from segloc.errors import DatasetError

CLASS_FILES = ("classes.txt", "classes.names", "obj.names", "data.yaml", "dataset.yaml")


def read_class_names(path: Path | str) -> list[str]:
    """Class names in index order from a txt / names file (one a line) or a YAML file's ``names``."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: class names file not found")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
            names = data.get("names") if isinstance(data, dict) else None
            if isinstance(names, dict):  # Ultralytics' {0: name, 1: name}
                names = [names[k] for k in sorted(names, key=int)]
        except (yaml.YAMLError, ValueError) as exc:
            raise DatasetError(f"{path}: not a readable class names YAML file: {exc}") from exc
        if not isinstance(names, list):
            raise DatasetError(f"{path}: no 'names' list in this YAML file")
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names or len(set(map(str, names))) != len(names):
        raise DatasetError(f"{path}: class names must be a non-empty list without duplicates")
    return [str(n) for n in names]


def find_class_file(labels: Path) -> Path:
    """The class names file of a labels folder: in it, or up to two folders above (Ultralytics' dataset root
    holds ``data.yaml`` above ``labels/train``)."""
    for folder in (labels, labels.parent, labels.parent.parent):
        for name in CLASS_FILES:
            if (folder / name).is_file():
                return folder / name
    raise DatasetError(f"{labels}: no class names file found (looked for {', '.join(CLASS_FILES)} here and "
                       "in the two folders above); pass one with --classes")
