"""Records, annotation lists, samplers, transforms, datasets and loaders for video data.

A pipeline is a list of ``{"type": name, **kwargs}`` steps, MMAction2-style: a sampler, ``DecodeFrames``,
then transforms on uint8 (T, C, H, W) tensors, ``Normalize`` (or ``Normalize(on_device=True)`` and
``normalize_batch`` on the device) and ``FormatShape``.
"""

from action_core.data.datasets import (
    BadMediaLog,
    BadMediaReport,
    RawframeDataset,
    SampleError,
    VideoDataset,
)
from action_core.data.decode import DecodeFrames
from action_core.data.lists import AnnotationError, parse_rawframe_list, parse_slowfast_list, parse_video_list
from action_core.data.loader import build_dataloader, keep_freed_memory, seed_worker, set_epoch
from action_core.data.pipeline import TRANSFORMS, Compose, build_pipeline, build_transform
from action_core.data.records import RawframeRecord, VideoRecord
from action_core.data.samplers import (
    DenseSampleFrames,
    SampleFrames,
    SegmentSampleFrames,
    UniformSample,
    UniformSampleFrames,
)
from action_core.data.transforms import (
    CenterCrop,
    ColorJitter,
    Flip,
    FormatShape,
    MultiScaleCrop,
    Normalize,
    RandomCrop,
    RandomResizedCrop,
    Resize,
    TenCrop,
    ThreeCrop,
    normalize_batch,
)

__all__ = [
    "TRANSFORMS",
    "AnnotationError",
    "BadMediaLog",
    "BadMediaReport",
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "DecodeFrames",
    "DenseSampleFrames",
    "Flip",
    "FormatShape",
    "MultiScaleCrop",
    "Normalize",
    "RandomCrop",
    "RandomResizedCrop",
    "RawframeDataset",
    "RawframeRecord",
    "Resize",
    "SampleError",
    "SampleFrames",
    "SegmentSampleFrames",
    "TenCrop",
    "ThreeCrop",
    "UniformSample",
    "UniformSampleFrames",
    "VideoDataset",
    "VideoRecord",
    "build_dataloader",
    "build_pipeline",
    "build_transform",
    "keep_freed_memory",
    "normalize_batch",
    "parse_rawframe_list",
    "parse_slowfast_list",
    "parse_video_list",
    "seed_worker",
    "set_epoch",
]
