"""A long video of synthetic motion clips played one after another, with its ground-truth segments.

Each segment is one clip of the motion dataset (the same renderer, classes and sizes as the dataset, but
clips the dataset does not contain: they are drawn from their own seed), so a recognizer trained on the
dataset should label every stretch of the long video with the class of the clip shown there; consecutive
segments never share a class. Frames are rendered and encoded clip by clip, so making a long video takes
memory for one clip only.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs
import av
import numpy as np

from action_synthetic.generate import MotionDatasetConfig
from action_synthetic.motion import CLASS_NAMES, motion_class, render_clip, sample_states, varied_attributes

__all__ = ["TrueSegment", "write_long_video"]

_SEED_OFFSET = 1_000_003  # long-video clips come from another stream of seeds than the dataset's clips


@attrs.frozen
class TrueSegment:
    """Where one clip lies in the long video: its class, first frame and seconds ``[start, end)``."""

    label: str
    first_frame: int
    num_frames: int
    start: float
    end: float


def write_long_video(
    path: str | os.PathLike[str],
    config: MotionDatasetConfig | None = None,
    *,
    segments: int = 20,
    seed: int = 0,
) -> list[TrueSegment]:
    """Write ``segments`` clips of ``config``'s classes (random, no class twice in a row) as one H.264 MP4
    at ``config.fps`` and return where each lies."""
    config = config or MotionDatasetConfig()
    if segments < 1:
        raise ValueError(f"segments must be >= 1, got {segments}")
    rng = np.random.default_rng([seed, _SEED_OFFSET])
    classes = list(config.classes)
    varied = varied_attributes(config.classes)
    truth: list[TrueSegment] = []
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=config.fps)
        stream.width = stream.height = config.size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "12", "preset": "fast"}
        previous = None
        frame_index = 0
        for k in range(segments):
            name = str(rng.choice([c for c in classes if c != previous]))
            clip_rng = np.random.default_rng([config.seed, _SEED_OFFSET, seed, CLASS_NAMES.index(name), k])
            states = sample_states(
                clip_rng,
                motion_class(name),
                num_frames=config.num_frames,
                varied=varied,
                nuisance=config.nuisance,
            )
            frames = render_clip(
                clip_rng, states, size=config.size, noise_std=config.noise_std, distractors=config.distractors
            )
            for image in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                    container.mux(packet)
            truth.append(
                TrueSegment(
                    name,
                    frame_index,
                    len(frames),
                    frame_index / config.fps,
                    (frame_index + len(frames)) / config.fps,
                )
            )
            frame_index += len(frames)
            previous = name
        for packet in stream.encode():
            container.mux(packet)
    return truth
