"""Video and frame-folder decoding: frame-exact random access on PyAV, rawframes on torchvision, and
sequential streams (files, cameras, network streams) in constant memory."""

from .errors import MediaError, VideoDecodeError
from .rawframes import RawframeReader
from .reader import DecodeStats, VideoReader
from .stream import FrameStream, StreamError, StreamFrame

__all__ = [
    "DecodeStats",
    "FrameStream",
    "MediaError",
    "RawframeReader",
    "StreamError",
    "StreamFrame",
    "VideoDecodeError",
    "VideoReader",
]
