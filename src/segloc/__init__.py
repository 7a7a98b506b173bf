"""segloc: SegLoc / InsLoc / MoCo pretraining and prohibited-item detection on X-ray scans."""

__version__ = "0.1.0"
