"""Evaluation metrics as pure functions: VOC average precision, CAM pointing accuracy."""
