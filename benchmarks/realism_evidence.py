"""What gives generated scans away: a small CNN learns to tell real scans from generated ones at the
thumbnail size a domain classifier sees (96 px, letterboxed on white), and the patches it finds most
decisive on each side are drawn in one sheet (top rows: the most real-looking patches of real scans;
bottom rows: the most generated-looking patches of generated scans).

The CNN ends in a 1x1 convolution, so its logit for a scan is the mean of a 6x6 map of local evidence
(a class activation map); a patch is the 32 px window round one cell of that map. It trains on every
scan (a diagnostic, not a measure: the realism tool's held-out accuracy is the measure). Real SIXray
scans are for academic research only: the sheet goes under runs/ (ignored by git), never into the
repository. Prints one JSON.

    python benchmarks/realism_evidence.py REAL_DIR GENERATED_DIR [--glob 'N*.jpg'] [--n 400] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from segloc.data.images import IMAGE_SUFFIXES, read_rgb
from segloc.data.resize import resized_shape
from segloc.engine.machine import machine_info

SIDE = 96  # thumbnail side the realism tool's classifier sees
CELL = 16  # px of thumbnail per cell of the evidence map (four stride-2 convolutions)
WINDOW = 32  # px of thumbnail drawn round a decisive cell
ZOOM = 3  # patches are drawn this many times larger
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "runs" / "realism-evidence"


def scan_paths(folder: Path, pattern: str, n: int) -> list[Path]:
    """The first n scans (sorted) of `folder` matching `pattern`."""
    paths = sorted(p for p in folder.glob(pattern) if p.suffix.lower() in IMAGE_SUFFIXES)[:n]
    if not paths:
        raise SystemExit(f"{folder}: no scans matching {pattern!r} ({', '.join(IMAGE_SUFFIXES)})")
    return paths


def thumbnail(path: Path) -> np.ndarray:
    """The scan shrunk to SIDE px on its longest side, at the top left of a white SIDE x SIDE canvas."""
    image = read_rgb(path)
    small = cv2.resize(image, resized_shape(image.shape[1], image.shape[0], SIDE), interpolation=cv2.INTER_AREA)
    canvas = np.full((SIDE, SIDE, 3), 255, np.uint8)
    canvas[: small.shape[0], : small.shape[1]] = small
    return canvas


def evidence_net() -> nn.Sequential:
    """Four stride-2 conv blocks and a 1x1 head: a map of local 'generated' evidence, one cell per 16 px."""
    blocks: list[nn.Module] = []
    for c_in, c_out in ((3, 16), (16, 32), (32, 64), (64, 64)):
        blocks += [nn.Conv2d(c_in, c_out, 3, 2, 1), nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(*blocks, nn.Conv2d(64, 1, 1))


def train(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> nn.Sequential:
    """Fit the evidence net to tell generated (y=1) from real (y=0) scans, with horizontal flips."""
    torch.manual_seed(seed)
    flips = random.Random(seed)
    net = evidence_net()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    net.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(x)).split(32):
            xb = x[batch].flip(3) if flips.random() < 0.5 else x[batch]
            loss = nn.functional.binary_cross_entropy_with_logits(net(xb).mean((1, 2, 3)), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return precise_bn(net, x)


def precise_bn(net: nn.Sequential, x: torch.Tensor) -> nn.Sequential:
    """The net in eval mode, its batch-norm statistics averaged over all of x (after a short training the running
    averages still lag, and the scores would be shifted)."""
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average
    with torch.no_grad():
        for batch in x.split(64):
            net(batch)
    return net.eval()


def decisive(evidence: np.ndarray, sign: float, count: int) -> list[tuple[int, int, int, float]]:
    """(scan, row, col, score) of the `count` scans whose strongest cell points most to `sign` (+1 generated,
    -1 real), one cell per scan."""
    flat = (sign * evidence).reshape(len(evidence), -1)
    best = flat.argmax(1)
    order = np.argsort(-flat[np.arange(len(flat)), best])[:count]
    cols = evidence.shape[2]
    return [(int(i), int(best[i] // cols), int(best[i] % cols), float(flat[i, best[i]])) for i in order]


def patch(thumb: np.ndarray, row: int, col: int) -> np.ndarray:
    """The WINDOW px round one cell of a thumbnail (white beyond its edge), ZOOM times larger."""
    pad = np.pad(thumb, ((WINDOW // 2, WINDOW // 2), (WINDOW // 2, WINDOW // 2), (0, 0)), constant_values=255)
    y, x = row * CELL + CELL // 2, col * CELL + CELL // 2
    return cv2.resize(pad[y : y + WINDOW, x : x + WINDOW], None, fx=ZOOM, fy=ZOOM, interpolation=cv2.INTER_NEAREST)


def sheet(rows: list[list[np.ndarray]], per_row: int) -> np.ndarray:
    """Patches in rows of `per_row`, with a black rule between the real and the generated half."""
    side = WINDOW * ZOOM
    blank = np.full((side, side, 3), 255, np.uint8)
    lines = []
    for half, patches in enumerate(rows):
        if half:
            lines.append(np.zeros((6, per_row * side, 3), np.uint8))
        for k in range(0, max(len(patches), 1), per_row):
            chunk = patches[k : k + per_row]
            lines.append(np.hstack(chunk + [blank] * (per_row - len(chunk))))
    return np.vstack(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("real", type=Path, help="folder of real scans")
    parser.add_argument("generated", type=Path, help="folder of generated scans")
    parser.add_argument("--glob", default="N*.jpg", help="pattern of the generated scans (SIXray negatives)")
    parser.add_argument("--n", type=int, default=400, help="scans per side")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--patches", type=int, default=24, help="decisive patches drawn per side")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for evidence.png")
    args = parser.parse_args()
    real = scan_paths(args.real, "*", args.n)
    generated = scan_paths(args.generated, args.glob, args.n)
    paths = real + generated
    thumbs = [thumbnail(p) for p in paths]
    x = torch.from_numpy(np.stack(thumbs)).permute(0, 3, 1, 2).float() / 255
    y = torch.cat([torch.zeros(len(real)), torch.ones(len(generated))])
    net = train(x, y, args.epochs, args.seed)
    with torch.no_grad():
        evidence = net(x)[:, 0].numpy()
    accuracy = float(((evidence.mean((1, 2)) > 0) == y.numpy().astype(bool)).mean())
    report: dict = {"benchmark": "realism_evidence", "scans": {"real": len(real), "generated": len(generated)}}
    report["train_accuracy"] = round(accuracy, 3)
    rows = []
    for name, offset, end, sign in (("real", 0, len(real), -1.0), ("generated", len(real), len(paths), 1.0)):
        picks = decisive(evidence[offset:end], sign, args.patches)
        rows.append([patch(thumbs[offset + i], r, c) for i, r, c, _ in picks])
        report[f"most_{name}_patches"] = [
            {"scan": paths[offset + i].name, "cell": [r, c], "evidence": round(sign * s, 2)} for i, r, c, s in picks
        ]
    gap = evidence[len(real) :].mean(0) - evidence[: len(real)].mean(0)
    report["generated_minus_real_by_row"] = [round(float(v), 2) for v in gap.mean(1)]
    report["generated_minus_real_by_col"] = [round(float(v), 2) for v in gap.mean(0)]
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "evidence.png"
    cv2.imwrite(str(out), cv2.cvtColor(sheet(rows, 12), cv2.COLOR_RGB2BGR))
    report["sheet"] = str(out)
    report["machine"] = machine_info()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
