"""Contrastive pretraining: MoCo v2, InsLoc and SegLoc (one queue per class) on synthesised pairs."""
