"""A recognizer whose answer is known without training: the colour that dominates a clip (red, green,
blue), and solid-colour videos to run it on. Shared by the tests and the scripts they run in subprocesses."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
import torch
from torch import nn

CLASSES = ["red", "green", "blue"]
COLOURS = {"red": (230, 20, 20), "green": (20, 230, 20), "blue": (20, 20, 230)}
PIPELINE = [
    {"type": "SampleFrames", "clip_len": 4, "frame_interval": 1, "num_clips": 1, "test_mode": True},
    {"type": "DecodeFrames"},
    {"type": "Resize", "scale": [-1, 32]},
    {"type": "CenterCrop", "crop_size": 32},
    {"type": "Normalize", "mean": [0, 0, 0], "std": [255, 255, 255], "on_device": True},
    {"type": "FormatShape", "input_format": "NCTHW"},
]

PLUGIN_SOURCE = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_models(register):
    register("colour3d", "colourparts:ColourRecognizer", summary="the dominant colour of a clip")
"""


class ColourRecognizer(nn.Module):
    """Mean of each colour channel over the clip (the embedding), then a linear classifier that favours the
    largest: logits = scale x channel means."""

    input_format = "NCTHW"

    def __init__(self, *, num_classes: int = 3, scale: float = 20.0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.backbone = nn.AdaptiveAvgPool3d(1)
        self.head = nn.Linear(3, num_classes)
        with torch.no_grad():
            self.head.weight.copy_(torch.eye(num_classes, 3) * scale)
            self.head.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x).flatten(1))


def config_dict(**data: Any) -> dict[str, Any]:
    """An experiment config (as a dict, the way the trainer stores it in checkpoints) for the colour model."""
    return {
        "model": {"type": "colour3d", "num_classes": 3},
        "data": {"dataset": "none", "test": {"split": "test", "pipeline": PIPELINE}, **data},
    }


def save_colour_checkpoint(path: Path) -> Path:
    """A training-style checkpoint: weights, the config and the class names."""
    from action_core.engine.checkpoint import save_checkpoint

    return save_checkpoint(
        {"model": ColourRecognizer().state_dict(), "meta": {"config": config_dict(), "classes": CLASSES}},
        path,
    )


def write_colour_video(
    path: Path,
    spans: Sequence[tuple[str, float]],
    *,
    fps: int = 10,
    size: tuple[int, int] = (48, 64),
    container_format: str | None = None,
    noise: int = 8,
) -> Path:
    """An H.264 video of solid colours with a little noise: ``spans`` of ``(colour name, seconds)``."""
    rng = np.random.default_rng(0)
    with av.open(str(path), mode="w", format=container_format) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.height, stream.width = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for name, seconds in spans:
            for _ in range(round(seconds * fps)):
                image = np.clip(
                    np.asarray(COLOURS[name], dtype=np.int16) + rng.integers(-noise, noise + 1, (*size, 3)),
                    0,
                    255,
                ).astype(np.uint8)
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
