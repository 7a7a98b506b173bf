"""SIXray image-level classification with CHR (class-balanced hierarchical refinement):
model (``chr``), loss (``loss``), data (``data``), training (``train``), evaluation (``evaluate``)."""
