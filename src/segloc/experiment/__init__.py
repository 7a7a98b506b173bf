"""The end-to-end experiment: the paper's comparison of inits, resumable stage by stage."""
from segloc.experiment.config import ExperimentConfig
from segloc.experiment.pipeline import find_config, run_experiment

__all__ = ["ExperimentConfig", "find_config", "run_experiment"]
