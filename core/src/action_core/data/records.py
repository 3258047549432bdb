"""What one annotated sample is: a video file or a folder of extracted frames, with its label(s)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs


def _to_label(value: int | Sequence[int] | None) -> int | list[int] | None:
    # Labels arrive as int (single-label), a sequence of ints (multi-label) or None (unlabelled test list).
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"a label must be an int or a list of ints, got {value!r}")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (str, bytes)):
        raise TypeError(f"a label must be an int or a list of ints, got the string {value!r}")
    labels = [int(v) for v in value]
    return labels


def _check_label(instance: object, attribute: attrs.Attribute, value: int | list[int] | None) -> None:
    values = [] if value is None else [value] if isinstance(value, int) else value
    bad = [v for v in values if v < 0]
    if bad:
        raise ValueError(f"{attribute.name} must be >= 0 (or None for an unlabelled sample), got {value!r}")


@attrs.frozen
class VideoRecord:
    """A video file and its label.

    ``label`` is an int (single-label), a list of ints (multi-label) or None (unlabelled).
    ``num_frames`` is what the annotation says, if anything; the reader's count is what sampling uses.
    ``start``/``end`` (seconds) restrict sampling to a segment of the file. ``where`` says where the record
    was annotated (``"list.txt:7"``), so errors about its media can name the row; it takes no part in equality.
    """

    path: str = attrs.field(converter=str)
    label: int | list[int] | None = attrs.field(default=None, converter=_to_label, validator=_check_label)
    num_frames: int | None = attrs.field(default=None)
    start: float | None = attrs.field(default=None)
    end: float | None = attrs.field(default=None)
    where: str | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)

    @end.validator
    def _check_segment(self, attribute: attrs.Attribute, value: float | None) -> None:
        if self.start is not None and value is not None and value <= self.start:
            raise ValueError(f"{self.path}: segment end {value} must be after its start {self.start}")


@attrs.frozen
class RawframeRecord:
    """A folder of extracted frames (``img_00001.jpg`` ...), its frame count and label.

    ``offset`` is added to every frame index (clips cut from one long folder, MMAction2's ``with_offset`` lists).
    ``where`` says where the record was annotated (``"list.txt:7"``); it takes no part in equality.
    """

    frame_dir: str = attrs.field(converter=str)
    num_frames: int = attrs.field(converter=int)
    label: int | list[int] | None = attrs.field(default=None, converter=_to_label, validator=_check_label)
    offset: int = attrs.field(default=0, converter=int)
    where: str | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)

    @num_frames.validator
    def _check_frames(self, attribute: attrs.Attribute, value: int) -> None:
        if value < 0:
            raise ValueError(f"{self.frame_dir}: num_frames must be >= 0, got {value}")
