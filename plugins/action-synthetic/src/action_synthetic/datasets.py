"""Dataset builders registered by the plugin (contract: ``build(split, *, root, pipeline, test_mode, **args)``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from action_synthetic.generate import MotionDatasetConfig, prepare_motion_dataset
from action_synthetic.motion import CLASS_NAMES

if TYPE_CHECKING:
    from action_core.api import VideoDataset

DEFAULT_ROOT_ENV = "ACTION_SYNTHETIC_ROOT"


def default_root() -> Path:
    """Cache root used when a config leaves ``data.root`` empty: ``$ACTION_SYNTHETIC_ROOT`` or ``~/.cache``."""
    env = os.environ.get(DEFAULT_ROOT_ENV)
    return Path(env) if env else Path.home() / ".cache" / "action-synthetic"


def synthetic_motion(
    split: str,
    *,
    root: str,
    pipeline: list[dict],
    test_mode: bool,
    classes: Sequence[str] = CLASS_NAMES,
    videos_per_class: int = 40,
    size: int = 64,
    num_frames: int = 16,
    fps: int = 8,
    seed: int = 0,
    nuisance: str = "smooth",
    split_fractions: Sequence[float] = (0.6, 0.2, 0.2),
    noise_std: float = 6.0,
    distractors: int = 2,
) -> VideoDataset:
    """The motion-only synthetic video dataset's ``split`` (train/val/test), generated under ``root`` if needed.

    Returns an ``action_core.data.VideoDataset`` with ``.classes`` (the label map) and ``.multi_label`` False.
    An empty ``root`` means ``default_root()``. The keyword arguments are those of ``MotionDatasetConfig``.
    """
    from action_core.api import VideoDataset, VideoRecord

    config = MotionDatasetConfig(
        classes=tuple(classes),
        videos_per_class=videos_per_class,
        size=size,
        num_frames=num_frames,
        fps=fps,
        seed=seed,
        nuisance=nuisance,
        split_fractions=tuple(split_fractions),
        noise_std=noise_std,
        distractors=distractors,
    )
    generated = prepare_motion_dataset(root or default_root(), config)
    records = [
        VideoRecord(path, label, num_frames=config.num_frames) for path, label in generated.samples(split)
    ]
    return VideoDataset(records, pipeline, test_mode=test_mode, classes=generated.classes)


def conformance_example(tmp: Path) -> dict:
    """Tiny builder arguments for ``action-testkit``'s dataset check (``example`` metadata)."""
    return {
        "split": "train",
        "root": str(tmp),
        "pipeline": [
            {"type": "SampleFrames", "clip_len": 1, "frame_interval": 1, "num_clips": 4},
            {"type": "DecodeFrames"},
            {"type": "FormatShape", "input_format": "NCHW"},
        ],
        "test_mode": False,
        "classes": ["move_left", "move_right"],
        "videos_per_class": 3,
        "size": 32,
        "num_frames": 8,
    }
