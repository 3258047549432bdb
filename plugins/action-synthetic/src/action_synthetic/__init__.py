"""Synthetic data for the action toolkit: motion-only video clips and localization features with planted actions."""

from action_synthetic.generate import MotionDataset, MotionDatasetConfig, prepare_motion_dataset
from action_synthetic.localization import LocalizationFeatures, generate_localization_features
from action_synthetic.motion import CLASS_NAMES, MOTION_CLASSES

__all__ = [
    "CLASS_NAMES",
    "MOTION_CLASSES",
    "LocalizationFeatures",
    "MotionDataset",
    "MotionDatasetConfig",
    "generate_localization_features",
    "prepare_motion_dataset",
]
