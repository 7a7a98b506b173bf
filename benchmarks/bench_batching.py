"""Padding that batching adds to a detector's input, with and without aspect-ratio grouping.

A batch is padded to its largest scan (each side rounded up to the detector's size divisor), so the
backbone pays for every padded pixel. For a COCO json (any split segloc trains on), this counts the
pixels the detector receives per epoch, over several epochs' random orders, as a multiple of the
pixels of each scan's own padded shape: plain batches (the epoch's order cut in chunks) against grouped ones
(``segloc.detection.batching``, ``data.aspect_grouping``). No image is decoded. Prints one JSON object.

    python benchmarks/bench_batching.py ANNOTATIONS.json [--size 160] [--batch 4] [--epochs 20]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from segloc.detection.batching import grouped_batches, padded_shape

DIVISOR = 32  # torchvision's GeneralizedRCNNTransform.size_divisible, the detector's


def input_pixels(shapes: list[tuple[int, int]], keys: list, batch: int, epochs: int) -> float:
    """Pixels the detector receives per epoch over those of the scans' own shapes, mean over ``epochs`` orders."""
    own = sum(h * w for h, w in shapes)
    total = 0
    for epoch in range(epochs):
        order = [int(i) for i in np.random.default_rng(epoch).permutation(len(shapes))]
        for members in grouped_batches(order, keys, batch):
            height = max(shapes[i][0] for i in members)
            width = max(shapes[i][1] for i in members)
            total += height * width * len(members)
    return total / (epochs * own)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("annotations", type=Path, help="a COCO json (its images' width and height are read)")
    parser.add_argument("--size", type=int, default=160, help="the detector's longer input side")
    parser.add_argument("--batch", type=int, default=4, help="scans per batch (per process)")
    parser.add_argument("--epochs", type=int, default=20, help="random orders averaged over")
    args = parser.parse_args()
    images = json.loads(args.annotations.read_text(encoding="utf-8"))["images"]
    shapes = [padded_shape(im["height"], im["width"], args.size, DIVISOR) for im in images]
    plain = input_pixels(shapes, [None] * len(shapes), args.batch, args.epochs)
    grouped = input_pixels(shapes, shapes, args.batch, args.epochs)
    result = {
        "annotations": str(args.annotations),
        "scans": len(shapes),
        "size": args.size,
        "batch": args.batch,
        "padded_shapes": {f"{h}x{w}": n for (h, w), n in Counter(shapes).most_common()},
        "input_pixels_plain": round(plain, 4),
        "input_pixels_grouped": round(grouped, 4),
        "plain_over_grouped": round(plain / grouped, 4),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
