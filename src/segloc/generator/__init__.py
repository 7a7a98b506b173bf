"""Built-in X-ray scan generator: dual-energy physics, 12 PIDray item classes, bags with clutter, written
in the real PIDray (COCO json + PNG) and SIXray (JPEG, VOC xml, label CSVs) layouts. Deterministic by seed.

Presets (PIDray train/easy/hard/hidden; SIXray positives/negatives):
tiny 48/12/12/12, 40/120 (tests); small 1200/200/200/200, 500/2000 (CPU); medium 8000/1000/1000/1000,
3000/15000 (GPU).
"""

from segloc.generator.pipeline import OutputExistsError, generate
from segloc.generator.presets import PRESETS, Preset
from segloc.generator.scan import Scan, ScanPlan, render_scan

__all__ = ["OutputExistsError", "PRESETS", "Preset", "Scan", "ScanPlan", "generate", "render_scan"]
