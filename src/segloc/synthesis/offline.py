"""Offline pair shards: written resumably in parallel, read back as the same pairs.

Layout of an output folder::

    manifest.json          settings of the run (method, seed, pairs, shard size, sampler config,
                           sources); a resumed run must match it exactly
    shard_00000/           pairs 0 .. shard_size - 1
        index.json         {"pairs": [{"index": i, "views": [{"image": "00000000_1.png",
                           "box": [x1, y1, x2, y2], "label": c, "mask": RLE}, {...}], "info": {...}}]}
        00000000_1.png     view 1 of pair 0 (PNG: lossless, so a shard equals the on-the-fly
        00000000_2.png     pair bit for bit; JPEG when a quality is given, about 5x smaller)

A shard is written into ``shard_XXXXX.partial`` and renamed when complete, so a folder named
``shard_XXXXX`` is always whole: an interrupted run resumes by skipping those and rewriting the
partial one. Masks are COCO RLE (compact, exact). One writer per folder at a time.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from segloc.data.masks import decode_segmentation, encode_mask
from segloc.errors import ConfigError, DatasetError
from segloc.synthesis.pairs import Pair
from segloc.synthesis.paste import View

SHARD_FORMAT_VERSION = 1


def shard_name(shard: int) -> str:
    return f"shard_{shard:05d}"


def encode_image(image: np.ndarray, jpeg_quality: int | None) -> bytes:
    """RGB uint8 -> PNG bytes (lossless) or JPEG bytes at ``jpeg_quality``."""
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if jpeg_quality is None:
        ok, data = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    else:
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
    if not ok:
        raise RuntimeError("image encoding failed")
    return data.tobytes()


_worker_sampler: Callable[[int], Pair] | None = None


def _init_worker(sampler: Callable[[int], Pair]) -> None:
    global _worker_sampler
    _worker_sampler = sampler


def _encode_pair(args: tuple[int, int | None]) -> tuple[int, list[bytes], list[dict], dict]:
    index, jpeg_quality = args
    pair = _worker_sampler(index)
    views = (pair.view1, pair.view2)
    entries = [
        {"box": [float(v) for v in view.box], "label": int(view.label), "mask": encode_mask(view.mask)}
        for view in views
    ]
    return index, [encode_image(v.image, jpeg_quality) for v in views], entries, pair.info


def _check_manifest(out: Path, manifest: dict) -> None:
    """Refuse a folder whose finished shards were written with other settings; a folder without a
    finished shard (a start that failed) takes the new manifest."""
    path = out / "manifest.json"
    manifest = json.loads(json.dumps(manifest))
    if path.is_file() and any(out.glob("shard_[0-9]*/index.json")):
        existing = json.loads(path.read_text(encoding="utf-8"))
        differ = sorted(k for k in set(existing) | set(manifest) if existing.get(k) != manifest.get(k))
        if differ:
            raise ConfigError(
                f"{path}: this folder holds a run with other settings ({', '.join(differ)} "
                "differ); use a new --out folder or the original settings"
            )
    else:
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)


def write_shards(
    sampler: Callable[[int], Pair],
    pairs: int,
    out: Path | str,
    manifest: dict,
    shard_size: int = 1000,
    workers: int = 1,
    jpeg_quality: int | None = None,
    progress: bool = True,
) -> dict:
    """Write pairs ``0 .. pairs - 1`` as shards under ``out``, skipping shards already finished.

    ``manifest`` describes the run (it must make the pairs reproducible); an existing folder
    written with a different manifest is refused. Returns counts of written and skipped shards.
    """
    if pairs < 1 or shard_size < 1:
        raise ConfigError(f"pairs ({pairs}) and shard size ({shard_size}) must be positive")
    out = Path(out)
    manifest = dict(
        manifest, pairs=pairs, shard_size=shard_size, jpeg_quality=jpeg_quality, version=SHARD_FORMAT_VERSION
    )
    _check_manifest(out, manifest)
    for stale in out.glob("shard_*.partial"):
        shutil.rmtree(stale)
    n_shards = (pairs + shard_size - 1) // shard_size
    todo = [s for s in range(n_shards) if not (out / shard_name(s) / "index.json").is_file()]
    indices = [i for s in todo for i in range(s * shard_size, min((s + 1) * shard_size, pairs))]
    suffix = ".png" if jpeg_quality is None else ".jpg"
    entries: list[dict] = []
    with tqdm(total=len(indices), desc="pairs", unit="pair", disable=not progress or not indices) as bar:
        for index, blobs, views, info in _run(sampler, indices, workers, jpeg_quality):
            shard = index // shard_size
            partial = out / (shard_name(shard) + ".partial")
            partial.mkdir(exist_ok=True)
            for k, (blob, view) in enumerate(zip(blobs, views), start=1):
                name = f"{index:08d}_{k}{suffix}"
                (partial / name).write_bytes(blob)
                view["image"] = name
            entries.append({"index": index, "views": views, "info": info})
            if index + 1 == min((shard + 1) * shard_size, pairs):
                (partial / "index.json").write_text(json.dumps({"pairs": entries}), encoding="utf-8")
                os.replace(partial, out / shard_name(shard))
                entries = []
            bar.update()
    return {"shards": n_shards, "written": len(todo), "skipped": n_shards - len(todo), "pairs": pairs}


def _run(
    sampler: Callable[[int], Pair], indices: list[int], workers: int, jpeg_quality: int | None
) -> Iterator[tuple[int, list[bytes], list[dict], dict]]:
    """Encoded pairs in index order, made in this process or in ``workers`` processes."""
    jobs = [(i, jpeg_quality) for i in indices]
    if workers <= 1 or len(jobs) < 2:
        _init_worker(sampler)
        yield from map(_encode_pair, jobs)
        return
    with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(sampler,)) as pool:
        yield from pool.imap(_encode_pair, jobs, chunksize=4)


class ShardReader:
    """The pairs of the finished shards of an output folder, by position in index order."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        path = self.root / "manifest.json"
        if not path.is_file():
            raise DatasetError(f"{self.root}: no manifest.json, not a synthesised pair folder")
        self.manifest = json.loads(path.read_text(encoding="utf-8"))
        self.items: list[tuple[Path, dict]] = []
        for shard in sorted(self.root.glob("shard_[0-9]*")):
            index = shard / "index.json"
            if shard.is_dir() and index.is_file():
                self.items += [(shard, entry) for entry in json.loads(index.read_text(encoding="utf-8"))["pairs"]]
        self.items.sort(key=lambda item: item[1]["index"])
        if not self.items:
            raise DatasetError(f"{self.root}: no finished shard")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, position: int) -> Pair:
        shard, entry = self.items[position]
        views = []
        for view in entry["views"]:
            path = shard / view["image"]
            data = np.fromfile(str(path), dtype=np.uint8)
            bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
            if bgr is None:
                raise DatasetError(f"{path}: missing or corrupt view image")
            views.append(
                View(
                    cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB),
                    np.asarray(view["box"], np.float32),
                    decode_segmentation(view["mask"], *view["mask"]["size"]),
                    int(view["label"]),
                )
            )
        return Pair(int(entry["index"]), views[0], views[1], entry.get("info", {}))
