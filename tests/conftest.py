"""Shared fixtures: the real sample scans beside the repository (skipped when absent), generated data,
small untrained models, and the overrides that shrink an experiment's stages to seconds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

REAL_SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "real-samples"


@pytest.fixture(scope="session")
def real_samples() -> Path:
    if not REAL_SAMPLES.is_dir():
        pytest.skip(f"real samples not found at {REAL_SAMPLES}")
    return REAL_SAMPLES


@pytest.fixture(scope="session")
def tiny_overrides() -> dict[str, list[str]]:
    """Overrides that shrink each experiment stage to seconds, keyed by stage (pretrain, finetune, chr);
    one checkpoint kept per run so that the suite's temporary folders stay small."""
    return {
        "pretrain": [
            "train.steps=2",
            "train.batch_size=4",
            "train.checkpoint_every=2",
            "train.keep_checkpoints=1",
            "train.log_every=1",
            "train.progress=false",
            "contrast.queue_size=16",
            "data.target_width=96",
            "data.workers=0",
            "head.fc_dim=64",
        ],
        "finetune": [
            "model.image_size=128",
            "train.epochs=1",
            "train.keep_checkpoints=1",
            "optim.milestones=[1]",
            "optim.warmup_steps=2",
            "data.workers=0",
            "data.max_train_images=4",
            "train.log_every=1",
            "model.rpn_pre_nms_test=100",
            "model.rpn_post_nms_test=50",
        ],
        "chr": [
            "model.arch=resnet18",
            "data.image_size=64",
            "data.resize=72",
            "data.workers=0",
            "train.epochs=1",
            "train.batch_size=8",
            "train.keep_checkpoints=1",
            "eval.enabled=false",
        ],
    }


@pytest.fixture(scope="session")
def generated_tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The generator's tiny preset (seed 0, with a preview), made once for the whole test session:
    (output folder holding pidray/, sixray/ and generator_meta.json, generation summary).
    Tests must treat it as read-only."""
    from segloc.generator import generate

    out = tmp_path_factory.mktemp("generated-tiny")
    summary = generate(out, "tiny", seed=0, preview=out / "preview.png", workers=2)
    return out, summary


@pytest.fixture(scope="session")
def random_detector_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run folders (model_final.pt) of small untrained Cascade Mask R-CNN and Mask R-CNN detectors for
    3 drawn classes; their box classifiers give spread-out scores, so every scan gets many
    detections with masks. Keyed by detector kind."""
    import torch

    from segloc.detection import ModelConfig, build_detector
    from segloc.detection.data import CategoryMap
    from segloc.detection.inference import detector_state
    from segloc.engine import atomic_save
    from segloc.engine.runfiles import FINAL_MODEL

    runs = {}
    for kind in ("cascade", "mask_rcnn"):
        torch.manual_seed(0)
        cfg = ModelConfig(
            kind=kind,
            arch="resnet18",
            attention=False,
            image_size=128,
            fpn_channels=32,
            mask_head_dim=32,
            box_head_dim=64,
            rpn_pre_nms_test=100,
            rpn_post_nms_test=50,
        )
        model = build_detector(cfg, 3, masks=True)
        for module in model.roi_heads.modules():
            if isinstance(module, torch.nn.Linear):
                torch.nn.init.normal_(module.weight, std=0.05)
        runs[kind] = tmp_path_factory.mktemp(f"random-{kind}")
        categories = CategoryMap((1, 2, 3), ("Block", "Disc", "Wedge"))
        atomic_save(detector_state(model, categories, True, cfg, "random"), runs[kind] / FINAL_MODEL)
    return runs


@pytest.fixture(scope="session")
def random_chr_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder (model_final.pt) of an untrained ResNet-18 CHR classifier at 64 px for SIXray's 5 classes."""
    import torch

    from segloc.classification.chr import CHRNet
    from segloc.classification.config import ChrConfig
    from segloc.data.sixray import SIXRAY_CLASSES
    from segloc.engine import atomic_save
    from segloc.engine.runfiles import FINAL_MODEL

    torch.manual_seed(0)
    config = ChrConfig.model_validate({"model": {"arch": "resnet18"}, "data": {"image_size": 64}})
    model = CHRNet("resnet18", len(SIXRAY_CLASSES), "chr")
    run = tmp_path_factory.mktemp("random-chr")
    atomic_save(
        {
            "model": model.state_dict(),
            "config": config.model_dump(mode="json"),
            "class_names": list(SIXRAY_CLASSES),
            "step": 0,
        },
        run / FINAL_MODEL,
    )
    return run


def _box_only(src: Path, images: Path, dst: Path, out_images: Path) -> None:
    """A generated PIDray split as the real set's box-only COCO, SIXray classes only."""
    from segloc.data.sixray import SIXRAY_CLASSES

    data = json.loads(src.read_text())
    keep = {c["id"] for c in data["categories"] if c["name"] in SIXRAY_CLASSES}
    anns = [
        {k: v for k, v in a.items() if k != "segmentation"} for a in data["annotations"] if a["category_id"] in keep
    ]
    used = {a["image_id"] for a in anns}
    data["images"] = [r for r in data["images"] if r["id"] in used]
    data["annotations"], data["categories"] = anns, [c for c in data["categories"] if c["id"] in keep]
    out_images.mkdir(parents=True, exist_ok=True)
    for record in data["images"]:
        shutil.copy(images / record["file_name"], out_images / record["file_name"])
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(data))


@pytest.fixture(scope="session")
def tiny_real(generated_tiny: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real set's layout (box-only sixray-det/{train,val,test} and backgrounds/) built from the generated
    tiny preset: a stand-in for ``../shared/real-dev`` that every test can have. Read-only."""
    from segloc.data.sixray_det import sixray_det_split

    root, real = generated_tiny[0], tmp_path_factory.mktemp("real")
    for split, source in (("train", "train"), ("val", "easy"), ("test", "hard")):
        name = "xray_train.json" if split == "train" else f"xray_test_{source}.json"
        _box_only(root / "pidray" / "annotations" / name, root / "pidray" / source, *sixray_det_split(real, split))
    (real / "backgrounds").mkdir()
    for path in sorted((root / "sixray" / "JPEGImage").glob("N*.jpg"))[:30]:
        shutil.copy(path, real / "backgrounds" / path.name)
    return real
