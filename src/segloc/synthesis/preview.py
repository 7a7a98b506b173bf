"""Galleries: synthesised pairs (both views with box, mask outline and class) and cut-out segments."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from segloc.synthesis.pairs import Pair
from segloc.synthesis.paste import View
from segloc.synthesis.segments import Segment

BOX_COLOUR = (0, 0, 255)      # BGR red
MASK_COLOUR = (255, 0, 255)   # BGR magenta
ROW_HEIGHT = 320


def _panel(view: View, caption: str) -> np.ndarray:
    image = cv2.cvtColor(view.image, cv2.COLOR_RGB2BGR)
    contours, _ = cv2.findContours(view.mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(image, contours, -1, MASK_COLOUR, 1)
    x1, y1, x2, y2 = (int(round(v)) for v in view.box)
    cv2.rectangle(image, (x1, y1), (x2 - 1, y2 - 1), BOX_COLOUR, 2)
    scale = ROW_HEIGHT / image.shape[0]
    image = cv2.resize(image, (max(1, int(round(image.shape[1] * scale))), ROW_HEIGHT), interpolation=cv2.INTER_AREA)
    cv2.putText(image, caption, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 3, cv2.LINE_AA)
    cv2.putText(image, caption, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    return image


def draw_gallery(pairs: list[Pair], categories: dict[int, str], path: Path | str) -> Path:
    """Write a PNG with one row per pair (view 1 | view 2) and return its path."""
    rows = []
    for pair in pairs:
        panels = []
        for k, view in enumerate((pair.view1, pair.view2)):
            name = categories.get(view.label, "InsLoc" if view.label < 0 else str(view.label))
            c = pair.info.get("composition")
            caption = f"#{pair.index} {name}" + (f" c={c[k]:.2f}" if c else "")
            panels.append(_panel(view, caption))
        gap = np.full((ROW_HEIGHT, 8, 3), 64, np.uint8)
        rows.append(np.hstack([panels[0], gap, panels[1]]))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 8), (0, width - r.shape[1]), (0, 0)), constant_values=64) for r in rows]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.vstack(rows)):
        raise OSError(f"{path}: could not write the gallery image")
    return path


def draw_segments(segments: list[Segment], categories: dict[int, str], path: Path | str, per_row: int = 6) -> Path:
    """Write a PNG of cut-out segments (outside the mask faded, the mask outlined) and return its path."""
    side = ROW_HEIGHT // 2
    tiles = []
    for segment in segments:
        image = cv2.cvtColor(segment.image, cv2.COLOR_RGB2BGR)
        outside = segment.mask == 0
        image[outside] = (image[outside] * 0.3 + 178).astype(np.uint8)
        contours, _ = cv2.findContours(segment.mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(image, contours, -1, MASK_COLOUR, 1)
        scale = side / max(image.shape[:2])
        image = cv2.resize(image, (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))),
                           interpolation=cv2.INTER_AREA)
        tile = np.full((side, side, 3), 255, np.uint8)
        tile[:image.shape[0], :image.shape[1]] = image
        name = categories.get(segment.category_id, str(segment.category_id))
        cv2.putText(tile, name, (4, side - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(np.pad(tile, ((2, 2), (2, 2), (0, 0)), constant_values=64))
    tiles += [np.full_like(tiles[0], 64)] * (-len(tiles) % per_row)
    sheet = np.vstack([np.hstack(tiles[i:i + per_row]) for i in range(0, len(tiles), per_row)])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), sheet):
        raise OSError(f"{path}: could not write the segments image")
    return path
