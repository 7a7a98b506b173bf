"""Contact sheet of generated scans with their boxes and class names, for checking the data by eye."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from segloc.data.images import read_rgb
from segloc.generator.writer import Record

TILE = (320, 256)  # (width, height) of one tile
BOX_COLOUR = (230, 20, 60)


def draw_tile(image: np.ndarray, objects: list[tuple[list[int], str]], title: str) -> np.ndarray:
    """Image letterboxed into a tile, with its boxes, class names and a title."""
    h, w = image.shape[:2]
    s = min(TILE[0] / w, TILE[1] / h)
    small = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    tile = np.full((TILE[1], TILE[0], 3), 255, np.uint8)
    tile[: small.shape[0], : small.shape[1]] = small
    for (x, y, bw, bh), name in objects:
        p0, p1 = (round(x * s), round(y * s)), (round((x + bw) * s) - 1, round((y + bh) * s) - 1)
        cv2.rectangle(tile, p0, p1, BOX_COLOUR, 1)
        cv2.putText(tile, name, (p0[0], max(p0[1] - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.38, BOX_COLOUR, 1, cv2.LINE_AA)
    cv2.putText(tile, title, (4, TILE[1] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (40, 40, 40), 1, cv2.LINE_AA)
    return tile


def contact_sheet(tiles: list[np.ndarray], cols: int = 4) -> np.ndarray:
    """Tiles laid out row by row, with a one-pixel grey grid; empty cells stay white."""
    rows = -(-len(tiles) // cols)
    sheet = np.full((rows * (TILE[1] + 1) + 1, cols * (TILE[0] + 1) + 1, 3), 160, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, cols)
        sheet[1 + r * (TILE[1] + 1) : (r + 1) * (TILE[1] + 1), 1 + c * (TILE[0] + 1) : (c + 1) * (TILE[0] + 1)] = tile
    return sheet


def pick(groups: dict[str, list[Record]], count: int = 12) -> list[tuple[str, Record]]:
    """Up to `count` records taken round-robin across the groups (splits), in order."""
    chosen: list[tuple[str, Record]] = []
    depth = 0
    while len(chosen) < count and any(depth < len(g) for g in groups.values()):
        for name, group in groups.items():
            if depth < len(group) and len(chosen) < count:
                chosen.append((name, group[depth]))
        depth += 1
    return chosen


def write_preview(out: Path, groups: dict[str, list[Record]], path: Path, count: int = 12) -> None:
    """Read back `count` generated scans from `out` and save a 4-column contact sheet to `path`."""
    tiles = []
    for group, rec in pick(groups, count):
        image = read_rgb(out / rec.path)
        tiles.append(draw_tile(image, [(o.bbox, o.class_name) for o in rec.objects], f"{group}: {Path(rec.path).name}"))
    sheet = contact_sheet(tiles)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), sheet[:, :, ::-1]):
        raise OSError(f"{path}: could not write the preview image (is the suffix .png or .jpg?)")
