"""Generate (once) and describe the synthetic motion video dataset on disk.

Layout of one generated dataset, a folder under the cache root named after a hash of its configuration::

    synthetic_motion-<hash>/
      videos/<class>/<class>_<index>.mp4   MPEG-4 clips written with PyAV
      classes.txt                          label map, one class name per line (line i = label i)
      train.txt val.txt test.txt           MMAction2 video lists: "<path relative to this folder> <label>"
      config.json                          the configuration it was made from
      manifest.json                        size and SHA-256 of every file above, written last
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import av
import numpy as np

from action_synthetic.cache import encode_json, ensure_files
from action_synthetic.motion import (
    CLASS_NAMES,
    NUISANCE_MODES,
    motion_class,
    render_clip,
    sample_states,
    varied_attributes,
)

SPLITS = ("train", "val", "test")
GENERATOR_VERSION = 1  # bump when the same configuration would render different pixels


def _check_classes(instance: object, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    for name in value:
        motion_class(name)
    if len(set(value)) != len(value):
        raise ValueError(f"{attribute.name}: class names repeat in {list(value)}")
    if len(value) < 2:
        raise ValueError(f"{attribute.name}: need at least two classes, got {list(value)}")


def _check_fractions(instance: object, attribute: attrs.Attribute, value: tuple[float, ...]) -> None:
    if len(value) != 3 or any(f < 0 for f in value) or abs(sum(value) - 1.0) > 1e-6:
        raise ValueError(
            f"{attribute.name}: give three non-negative fractions (train, val, test) summing to 1, got {value}"
        )


def _check_even(instance: object, attribute: attrs.Attribute, value: int) -> None:
    if value < 16 or value % 2:
        raise ValueError(f"{attribute.name}: frame side must be even and >= 16 (4:2:0 video), got {value}")


@attrs.frozen(kw_only=True)
class MotionDatasetConfig:
    """What to generate. Equal configurations give byte-identical files (same PyAV/FFmpeg build)."""

    classes: tuple[str, ...] = attrs.field(default=CLASS_NAMES, converter=tuple, validator=_check_classes)
    videos_per_class: int = attrs.field(default=40, validator=attrs.validators.ge(1))
    size: int = attrs.field(default=64, validator=_check_even)
    num_frames: int = attrs.field(default=16, validator=attrs.validators.ge(4))
    fps: int = attrs.field(default=8, validator=attrs.validators.ge(1))
    seed: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    nuisance: str = attrs.field(default="smooth", validator=attrs.validators.in_(NUISANCE_MODES))
    split_fractions: tuple[float, float, float] = attrs.field(
        default=(0.6, 0.2, 0.2), converter=lambda v: tuple(float(f) for f in v), validator=_check_fractions
    )
    noise_std: float = attrs.field(default=6.0, validator=attrs.validators.ge(0.0))
    distractors: int = attrs.field(default=2, validator=attrs.validators.ge(0))

    def identity(self) -> dict[str, object]:
        """JSON-able description that decides the folder name and is checked against the manifest."""
        return {"generator": GENERATOR_VERSION, **attrs.asdict(self, value_serializer=_plain)}

    def folder_name(self) -> str:
        """Name of this configuration's folder under the cache root."""
        return "synthetic_motion-" + hashlib.sha256(encode_json(self.identity())).hexdigest()[:12]

    def split_counts(self) -> dict[str, int]:
        """Videos per class in each split (val and test rounded, train takes the rest)."""
        n = self.videos_per_class
        val = round(self.split_fractions[1] * n)
        test = round(self.split_fractions[2] * n)
        return {"train": n - val - test, "val": val, "test": test}


def _plain(instance: object, attribute: object, value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


@attrs.frozen
class MotionDataset:
    """A generated dataset on disk: its folder, configuration and per-split ``(absolute path, label)`` lists."""

    folder: Path
    config: MotionDatasetConfig

    @property
    def classes(self) -> list[str]:
        """Label map: ``classes[label]`` is the class name."""
        return list(self.config.classes)

    def list_file(self, split: str) -> Path:
        """The MMAction2 video list file of ``split``."""
        _check_split(split)
        return self.folder / f"{split}.txt"

    def samples(self, split: str) -> list[tuple[str, int]]:
        """``(absolute video path, label)`` of every video in ``split``, read from its list file."""
        path = self.list_file(split)
        out = []
        for number, line in enumerate(path.read_text().splitlines(), 1):
            try:
                rel, label = line.rsplit(" ", 1)
                out.append((str(self.folder / rel), int(label)))
            except ValueError as e:
                raise ValueError(
                    f"{path}:{number}: expected '<path> <label>', got {line!r}; delete {self.folder} to regenerate"
                ) from e
        return out


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; the synthetic motion dataset has {', '.join(SPLITS)}")


def encode_video(frames: np.ndarray, *, fps: int) -> bytes:
    """Encode uint8 (T, H, W, 3) RGB frames as an MPEG-4 Part 2 MP4 with a fine fixed quantiser.

    MPEG-4 Part 2 rather than H.264: FFmpeg's mpeg4 encoder gives byte-identical output run after run, while
    libx264 (even single-threaded) was seen to vary between processes on the same input.
    """
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width = frames.shape[2]
        stream.height = frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1
        # Bound the quantiser: the loss is then close to that of 4:2:0 chroma subsampling alone.
        stream.codec_context.qmin = 1
        stream.codec_context.qmax = 2
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def render_video_frames(config: MotionDatasetConfig, class_name: str, index: int) -> np.ndarray:
    """The frames of video ``index`` of ``class_name``: depends only on the configuration, class and index."""
    cls = motion_class(class_name)
    # Seeded by the class's position in the full class list, not in the chosen subset: reordering the classes
    # or adding videos keeps every existing clip (a subset that moves other attributes renders other clips).
    rng = np.random.default_rng([config.seed, CLASS_NAMES.index(class_name), index])
    states = sample_states(
        rng,
        cls,
        num_frames=config.num_frames,
        varied=varied_attributes(config.classes),
        nuisance=config.nuisance,
    )
    return render_clip(
        rng, states, size=config.size, noise_std=config.noise_std, distractors=config.distractors
    )


def _video_bytes(config: MotionDatasetConfig, class_name: str, index: int) -> bytes:
    return encode_video(render_video_frames(config, class_name, index), fps=config.fps)


def _video_path(class_name: str, index: int) -> str:
    return f"videos/{class_name}/{class_name}_{index:04d}.mp4"


def _split_lists(config: MotionDatasetConfig) -> dict[str, list[str]]:
    counts = config.split_counts()
    lines: dict[str, list[str]] = {s: [] for s in SPLITS}
    for label, name in enumerate(config.classes):
        index = 0
        for split in SPLITS:
            for _ in range(counts[split]):
                lines[split].append(f"{_video_path(name, index)} {label}")
                index += 1
    return lines


def prepare_motion_dataset(root: str | Path, config: MotionDatasetConfig | None = None) -> MotionDataset:
    """Generate the dataset under ``root`` if it is not there (or repair it), and describe it.

    Safe to call from several processes at once; cheap when the dataset is already complete (it re-hashes the
    files to catch damage).
    """
    config = config or MotionDatasetConfig()
    folder = Path(root).expanduser() / config.folder_name()
    producers: dict[str, Callable[[], bytes]] = {}
    for name in config.classes:
        for index in range(config.videos_per_class):
            producers[_video_path(name, index)] = functools.partial(_video_bytes, config, name, index)
    for split, lines in _split_lists(config).items():
        producers[f"{split}.txt"] = functools.partial(_text, lines)
    producers["classes.txt"] = functools.partial(_text, config.classes)
    producers["config.json"] = functools.partial(encode_json, config.identity())
    ensure_files(folder, producers, config.identity())
    return MotionDataset(folder, config)


def _text(lines: Sequence[str]) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode()
