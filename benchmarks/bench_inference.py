"""Inference of a trained detector on real or generated scans, next to its own bare backbone + FPN.

``bench_detection.py`` times detectors with random weights, whose every scan carries the maximum of
100 detections (the worst case for NMS and the mask head). This one loads a fine-tuned run
(``segloc finetune`` folder or model file) and times, on the same batches of scans from a folder:
(a) the detector's backbone + FPN forward alone and (b) ``segloc evaluate``'s test-time path
(``detection.forward.run_detector``: batched backbone, RPN, cascade, masks pasted at scan size),
both on scans already decoded and resized (as the loader's workers hand them over). ``--score-thr``
runs the path as ``segloc detect --score-thr`` does (the mask head only on detections above it);
``--proposals`` sets the RPN's proposals per scan at test (``model.rpn_post_nms_test``); ``--contiguous``
times a CPU detector with NCHW weights instead of the channels-last ones segloc loads it with.
Prints one JSON object: images/s of both, their ratio, detections per scan.

    python benchmarks/bench_inference.py RUN SCANS_DIR [--batch 8] [--batches 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import devices
import numpy as np
import torch
from PIL import Image

from segloc.detection.forward import prepare_image, run_detector
from segloc.detection.inference import load_detector, score_floor
from segloc.engine.machine import machine_info


def _scans(folder: Path, count: int) -> list[np.ndarray]:
    """The first ``count`` scans of a folder (sorted names) as RGB arrays."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:count]
    if len(paths) < count:
        raise SystemExit(f"{folder}: {len(paths)} scans, {count} needed")
    return [np.array(Image.open(p).convert("RGB")) for p in paths]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a fine-tuning run folder or model file")
    parser.add_argument("scans", type=Path, help="a folder of scans")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--batches", type=int, default=3, help="timed batches (distinct scans), after one warm-up")
    parser.add_argument("--score-thr", type=float, default=0.0, help="masks only above this score (segloc detect)")
    parser.add_argument("--proposals", type=int, default=None, help="RPN proposals per scan at test (default: run)")
    parser.add_argument(
        "--contiguous", action="store_true", help="NCHW weights on a CPU (segloc loads CPU detectors channels-last)"
    )
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = devices.pick(args.device)
    detector = load_detector(args.run, device)
    model, side = detector.model, detector.model.transform.max_size
    if args.contiguous:
        model.to(memory_format=torch.contiguous_format)
    if args.proposals:
        model.rpn._post_nms_top_n["testing"] = args.proposals
    scans = _scans(args.scans, args.batch * (args.batches + 1))
    batches = []
    for k in range(args.batches + 1):
        group = scans[k * args.batch : (k + 1) * args.batch]
        prepared = [prepare_image(torch.from_numpy(s), side).to(device) for s in group]
        batches.append((prepared, [s.shape[:2] for s in group]))

    def bare(images: list[torch.Tensor]) -> None:
        normalised = [model.transform.normalize(im) for im in images]
        model.backbone(model.transform.batch_images(normalised, model.transform.size_divisible))

    bare_s = full_s = 0.0
    detections = 0
    with torch.no_grad(), score_floor(model, args.score_thr):
        bare(batches[0][0])
        run_detector(model, *batches[0])
        for images, sizes in batches[1:]:
            outputs: list[dict[str, torch.Tensor]] = []
            bare_s += devices.timed(lambda images=images: bare(images), device)[0]
            full_s += devices.timed(lambda i=images, s=sizes, o=outputs: o.extend(run_detector(model, i, s)), device)[0]
            detections += sum(len(o["boxes"]) for o in outputs)
    images_timed = args.batch * args.batches
    report = {
        "benchmark": "inference",
        "machine": {**machine_info(), **devices.describe(device)},
        "settings": {
            "run": str(args.run),
            "scans": str(args.scans),
            "arch": detector.model_config.arch,
            "kind": detector.model_config.kind,
            "masks": detector.masks,
            "size": side,
            "batch": args.batch,
            "batches": args.batches,
            "score_thr": args.score_thr,
            "proposals": model.rpn._post_nms_top_n["testing"],
            "channels_last": device.type == "cpu" and not args.contiguous,
        },
        "results": {
            "bare_infer_img_s": round(images_timed / bare_s, 3),
            "detector_infer_img_s": round(images_timed / full_s, 3),
            "ratio_to_bare": round(bare_s / full_s, 3),
            "detections_per_img": round(detections / images_timed, 1),
        },
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
