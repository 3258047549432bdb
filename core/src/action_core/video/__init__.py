"""Video and frame-folder decoding: frame-exact random access on PyAV, rawframes on torchvision."""

from .errors import MediaError, VideoDecodeError
from .rawframes import RawframeReader
from .reader import DecodeStats, VideoReader

__all__ = ["DecodeStats", "MediaError", "RawframeReader", "VideoDecodeError", "VideoReader"]
