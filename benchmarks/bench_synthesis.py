"""Benchmark of SegLoc pair synthesis on one core, against the bare cost of the images it reads.

For each pair, the bare baseline decodes and resizes (to the same 500 px width) the four images
the pair uses: its two backgrounds and the two labelled images its segments come from. The
on-the-fly synthesis (regions from a regions.json, segment cache warm) should cost at most twice
that. Also measured: regions per second, InsLoc pairs per second, and the tensor conversion of a
dataset item. Data: the built-in generator's ``tiny`` preset unless folders are given. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import cv2
import torch

from segloc.engine.machine import machine_info


def _data(args: argparse.Namespace, tmp: Path) -> tuple[Path, Path, Path, str]:
    if args.backgrounds:
        return Path(args.backgrounds), Path(args.labelled), Path(args.images), args.background_glob
    from segloc.generator import generate

    generate(tmp / "gen", preset=args.preset, seed=0)
    root = tmp / "gen"
    return (
        root / "sixray" / "JPEGImage",
        root / "pidray" / "annotations" / "xray_train.json",
        root / "pidray" / "train",
        "N*",
    )


def _timed(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--backgrounds")
    parser.add_argument("--labelled")
    parser.add_argument("--images")
    parser.add_argument("--background-glob", default="*")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)

    from segloc.data.images import read_rgb
    from segloc.synthesis.builder import build_sampler
    from segloc.synthesis.dataset import pair_item
    from segloc.synthesis.pairs import resize_to_width
    from segloc.synthesis.region import compute_regions, list_images

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        backgrounds, labelled, images, glob = _data(args, tmp)
        n_backgrounds = len(list_images(backgrounds, glob))
        start = time.perf_counter()
        compute_regions(backgrounds, tmp / "regions.json", workers=1, pattern=glob, progress=False)
        regions_s = time.perf_counter() - start

        sampler, _ = build_sampler(
            "segloc", backgrounds, labelled, images, seed=0, regions=tmp / "regions.json", background_glob=glob
        )
        indices = range(args.pairs)
        cold_s = _timed(lambda: [sampler(i) for i in indices], 1)
        pairs = [sampler(i) for i in indices]
        files = [[backgrounds / b for b in p.info["backgrounds"]] + [Path(s) for s in p.info["sources"]] for p in pairs]
        bare_s = _timed(lambda: [resize_to_width(read_rgb(f), 500) for fs in files for f in fs], args.repeats)
        warm_s = _timed(lambda: [sampler(i) for i in indices], args.repeats)
        item_s = _timed(lambda: [pair_item(p) for p in pairs], args.repeats)
        insloc, _ = build_sampler("insloc", backgrounds, labelled, images, seed=0, background_glob=glob)
        insloc_s = _timed(lambda: [insloc(i) for i in indices], args.repeats)
        view = pairs[0].view1.image.shape

    n = args.pairs
    print(
        json.dumps(
            {
                "benchmark": "synthesis",
                "data": "folders given" if args.backgrounds else f"generator preset {args.preset}",
                "pairs": n,
                "view_size_hw": list(view[:2]),
                "segloc_pairs_per_s_per_core": round(n / warm_s, 2),
                "segloc_cold_pairs_per_s_per_core": round(n / cold_s, 2),
                "bare_decode_resize_pairs_per_s": round(n / bare_s, 2),
                "synthesis_over_bare_decode": round(warm_s / bare_s, 3),
                "cold_synthesis_over_bare_decode": round(cold_s / bare_s, 3),
                "target_ratio_max": 2.0,
                "to_tensor_items_per_s": round(n / item_s, 1),
                "insloc_pairs_per_s_per_core": round(n / insloc_s, 2),
                "regions_per_s_per_core": round(n_backgrounds / regions_s, 2),
                "machine": {**machine_info(), "opencv": cv2.__version__},
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
