"""Frame folders (one JPEG per frame, as MMAction2 lists them) with the VideoReader surface."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from torchvision.io import ImageReadMode, decode_jpeg
from torchvision.transforms.v2 import functional as F

from .errors import VideoDecodeError
from .reader import DecodeStats, Layout, _output_size


class RawframeReader:
    """Random access to a folder of per-frame JPEGs.

    Args:
        frame_dir: the folder.
        template: file name of RGB frame ``i`` (``template.format(i)``).
        start_index: number of the first frame file (MMAction2 lists frames from 1).
        modality: ``"RGB"`` (3 channels per frame) or ``"Flow"``: optical flow stored as one grayscale
            JPEG per direction, ``flow_template.format("x", i)`` and ``flow_template.format("y", i)``;
            each frame then has 2 channels (x, y).
        num_frames: frame count from the annotation. When given it is checked against the folder (the
            last frame must exist); when omitted the frames are counted.
        fps: frame rate, if known (folders do not record it).
        short_side: downscale each frame so its shorter side is this (only ever smaller).

    Frame indices are 0-based: index ``k`` reads file number ``start_index + k``.
    """

    def __init__(
        self,
        frame_dir: str | os.PathLike,
        *,
        template: str = "img_{:05d}.jpg",
        start_index: int = 1,
        modality: Literal["RGB", "Flow"] = "RGB",
        flow_template: str = "{}_{:05d}.jpg",
        num_frames: int | None = None,
        fps: float | None = None,
        short_side: int | None = None,
    ) -> None:
        if modality not in ("RGB", "Flow"):
            raise ValueError(f"modality must be 'RGB' or 'Flow', got {modality!r}")
        self.path = self.frame_dir = os.fspath(frame_dir)
        self.template = template
        self.flow_template = flow_template
        self.start_index = int(start_index)
        self.modality = modality
        self.channels = 3 if modality == "RGB" else 2
        self._fps = fps
        self.last_stats = DecodeStats()
        if not os.path.isdir(self.path):
            raise VideoDecodeError(
                f"frame folder {self.path!r} does not exist; check the path and the data root",
                path=self.path,
                cause="missing",
            )
        if num_frames is None:
            self.num_frames = self._count_frames()
            self.frame_count_source = "counted"
        else:
            self.num_frames = int(num_frames)
            last = self._files(self.num_frames - 1)[0] if self.num_frames > 0 else None
            if last is None or not os.path.exists(last):
                raise VideoDecodeError(
                    f"frame folder {self.path!r} was said to hold {num_frames} frames but {last!r} is missing; "
                    "fix the annotation's frame count",
                    path=self.path,
                    cause="too short",
                )
            self.frame_count_source = "annotation, last frame checked"
        if self.num_frames == 0:
            raise VideoDecodeError(
                f"frame folder {self.path!r} holds no frame named like {self._files(0)[0]!r}",
                path=self.path,
                cause="empty",
            )
        first = self._decode(0)
        self.source_height, self.source_width = int(first.shape[-2]), int(first.shape[-1])
        self.height, self.width = _output_size(self.source_height, self.source_width, short_side)
        self.short_side = short_side

    @property
    def fps(self) -> float | None:
        """Frame rate given at construction (None if unknown)."""
        return self._fps

    @property
    def duration(self) -> float | None:
        """Seconds, when the frame rate is known."""
        return self.num_frames / self._fps if self._fps else None

    def get_frames(
        self, indices: Sequence[int] | np.ndarray | torch.Tensor, *, layout: Layout = "TCHW"
    ) -> torch.Tensor:
        """Frames at 0-based ``indices`` as uint8: (T, C, H, W) or (T, H, W, C); C is 3 (RGB) or 2 (flow x, y).
        Each distinct index is decoded once."""
        if layout not in ("TCHW", "THWC"):
            raise ValueError(f"layout must be 'TCHW' or 'THWC', got {layout!r}")
        if isinstance(indices, torch.Tensor):
            indices = indices.cpu().numpy()
        idx = np.asarray(indices).reshape(-1).astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_frames):
            bad = idx[(idx < 0) | (idx >= self.num_frames)]
            raise VideoDecodeError(
                f"frame indices {bad[:5].tolist()} are out of range for {self.path!r}, which has "
                f"{self.num_frames} frames",
                path=self.path,
                cause="index out of range",
            )
        start = time.monotonic()
        stats = self.last_stats = DecodeStats()
        uniq, inverse = np.unique(idx, return_inverse=True)
        decoded = [self._resize(self._decode(int(i))) for i in uniq]
        stats.frames_decoded = stats.frames_returned = len(decoded)
        stats.seconds = time.monotonic() - start
        if not decoded:
            shape = (0, self.channels, self.height, self.width)
            out = torch.empty(shape, dtype=torch.uint8)
        else:
            out = torch.stack(decoded)[torch.from_numpy(inverse.reshape(-1))]
        return out if layout == "TCHW" else out.permute(0, 2, 3, 1).contiguous()

    def close(self) -> None:
        """Nothing to release; present for the VideoReader surface."""

    def __enter__(self) -> RawframeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.num_frames

    def _files(self, k: int) -> list[str]:
        n = self.start_index + k
        if self.modality == "RGB":
            return [os.path.join(self.path, self.template.format(n))]
        return [os.path.join(self.path, self.flow_template.format(axis, n)) for axis in ("x", "y")]

    def _count_frames(self) -> int:
        names = set(os.listdir(self.path))
        n = 0
        while all(os.path.basename(f) in names for f in self._files(n)):
            n += 1
        return n

    def _decode(self, k: int) -> torch.Tensor:
        mode = ImageReadMode.RGB if self.modality == "RGB" else ImageReadMode.GRAY
        planes = []
        for f in self._files(k):
            try:
                with open(f, "rb") as fh:
                    data = fh.read()
                if not data:
                    raise ValueError("file is empty (0 bytes)")
                planes.append(decode_jpeg(torch.frombuffer(bytearray(data), dtype=torch.uint8), mode=mode))
            except (OSError, RuntimeError, ValueError) as e:
                raise VideoDecodeError(
                    f"cannot read frame {k} of {self.path!r} from {f!r}: {e}; the frame is missing or corrupt",
                    path=f,
                    cause="undecodable",
                ) from e
        return planes[0] if len(planes) == 1 else torch.cat(planes, dim=0)

    def _resize(self, img: torch.Tensor) -> torch.Tensor:
        if img.shape[-2:] != (self.source_height, self.source_width):
            raise VideoDecodeError(
                f"frames of {self.path!r} differ in size: {tuple(img.shape[-2:])} vs "
                f"{(self.source_height, self.source_width)}",
                path=self.path,
                cause="undecodable",
            )
        if (self.height, self.width) == (self.source_height, self.source_width):
            return img
        return F.resize(img, [self.height, self.width], antialias=True)
