"""Parsers for the generic annotation lists: MMAction2 video and rawframe lists, PySlowFast/PyTorchVideo lists,
and plain lists of one's own videos (class names or indices, multi-label, segments in seconds).

Every parser reads the file line by line, skips blank lines and reports a malformed row with the file and the
1-based line number (:class:`AnnotationError`). Labels are taken as written: nothing is shifted between 0- and
1-based numbering. A list without any row is an error (naming the file), and so is, with ``labelled=True`` (a
list to train on), a row without a label. Each record remembers its ``where`` (``"file:line"``).

Training and ``action-run doctor`` read lists through these same functions: training stops at the first bad
row; the doctor passes ``on_error`` to collect every bad row and check the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import attrs

from action_core.data.records import RawframeRecord, VideoRecord
from action_core.errors import ActionError

_Record = TypeVar("_Record", VideoRecord, RawframeRecord)


class AnnotationError(ActionError, ValueError):
    """An annotation file is missing or has a malformed row; ``path`` and ``line`` say where."""

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


OnError = Callable[[AnnotationError], None]
"""Receives each malformed row (the row is then left out) instead of the parser raising it."""


def _lines(path: str | os.PathLike[str], on_error: OnError | None) -> Iterator[tuple[int, str]]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise AnnotationError("annotation file not found; check the path", path=str(p)) from e
    except IsADirectoryError as e:
        raise AnnotationError("is a folder, not an annotation file", path=str(p)) from e
    except UnicodeDecodeError as e:
        raise AnnotationError(f"not a UTF-8 text file ({e.reason})", path=str(p)) from e
    rows = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line:
            rows += 1
            yield number, line
    if not rows:
        _report(
            AnnotationError(
                "the list has no rows; write one '<path> <label>' row per clip (or check that `prepare` "
                "found the media)",
                path=str(p),
            ),
            on_error,
        )


def _report(error: AnnotationError, on_error: OnError | None) -> None:
    if on_error is None:
        raise error
    on_error(error)


def _rows(
    path: str | os.PathLike[str], on_error: OnError | None, parse_row: Callable[[int, str], _Record]
) -> list[_Record]:
    records = []
    for number, line in _lines(path, on_error):
        try:
            records.append(parse_row(number, line))
        except AnnotationError as e:
            _report(e, on_error)
    return records


def _unlabelled(row: str, layout: str, *, path: str, line: int) -> AnnotationError:
    tabs = " (its fields are separated by tabs: use the list's delimiter)" if "\t" in row else ""
    return AnnotationError(
        f"row {row!r} has no label{tabs}; a list to train on needs {layout} on every row "
        "(rows with only a path belong in an unlabelled test list)",
        path=path,
        line=line,
    )


def _int_field(value: str, what: str, *, path: str, line: int, row: str) -> int:
    try:
        number = int(value)
    except ValueError as e:
        raise AnnotationError(
            f"{what} {value!r} is not an integer in row {row!r}", path=path, line=line
        ) from e
    if number < 0:
        raise AnnotationError(f"{what} {number} is negative in row {row!r}", path=path, line=line)
    return number


def _check_range(labels: list[int], num_classes: int | None, *, path: str, line: int) -> None:
    if num_classes is None:
        return
    bad = [v for v in labels if v >= num_classes]
    if bad:
        raise AnnotationError(
            f"label {bad[0]} is out of range for {num_classes} classes (labels are 0-based)",
            path=path,
            line=line,
        )


def _join(prefix: str | os.PathLike[str] | None, name: str) -> str:
    return os.path.join(os.fspath(prefix), name) if prefix else name


def parse_video_list(
    path: str | os.PathLike[str],
    *,
    prefix: str | os.PathLike[str] | None = None,
    delimiter: str = " ",
    multi_label: bool = False,
    num_classes: int | None = None,
    labelled: bool = False,
    on_error: OnError | None = None,
) -> list[VideoRecord]:
    """Read an MMAction2 video list: ``<path><delimiter><label>`` per line.

    A line with only a path is unlabelled (``label=None``), unless ``labelled`` (a list to train on), where
    it is an error. With ``multi_label`` every field after the path is a label. Paths are joined to
    ``prefix``. ``on_error`` receives each malformed row instead of raising it.
    """
    name = os.fspath(path)
    layout = f"'<path>{delimiter}<label>'"

    def row(number: int, line: str) -> VideoRecord:
        fields = line.split(delimiter)
        fields = [f for f in fields if f != ""] if delimiter == " " else [f.strip() for f in fields]
        file, rest = fields[0], fields[1:]
        if not file:
            raise AnnotationError(f"row {line!r} has an empty path", path=name, line=number)
        if labelled and not rest:
            raise _unlabelled(line, layout, path=name, line=number)
        if multi_label:
            labels = [_int_field(v, "label", path=name, line=number, row=line) for v in rest]
            _check_range(labels, num_classes, path=name, line=number)
            label: int | list[int] | None = labels if labels else None
        elif not rest:
            label = None
        elif len(rest) == 1:
            label = _int_field(rest[0], "label", path=name, line=number, row=line)
            _check_range([label], num_classes, path=name, line=number)
        else:
            raise AnnotationError(
                f"row {line!r} has {len(fields)} fields; expected {layout} "
                "(pass multi_label=True for several labels, or another delimiter if paths contain it)",
                path=name,
                line=number,
            )
        return VideoRecord(_join(prefix, file), label, where=f"{name}:{number}")

    return _rows(path, on_error, row)


def parse_rawframe_list(
    path: str | os.PathLike[str],
    *,
    prefix: str | os.PathLike[str] | None = None,
    with_offset: bool = False,
    multi_label: bool = False,
    num_classes: int | None = None,
    labelled: bool = False,
    on_error: OnError | None = None,
) -> list[RawframeRecord]:
    """Read an MMAction2 rawframe list: ``<frame_dir> [<offset>] <total_frames> <label...>`` per line.

    Without labels the row is unlabelled, unless ``labelled`` (a list to train on), where it is an error. A
    single-label list (the default) accepts exactly one label. ``on_error`` receives each malformed row
    instead of raising it.
    """
    name = os.fspath(path)
    needed = 3 if with_offset else 2
    layout = (
        "<frame_dir> <offset> <total_frames> <label>" if with_offset else "<frame_dir> <total_frames> <label>"
    )

    def row(number: int, line: str) -> RawframeRecord:
        fields = line.split()
        if len(fields) < needed:
            raise AnnotationError(
                f"row {line!r} has {len(fields)} fields; expected {layout}"
                + ("" if with_offset else " (or with_offset=True lists)"),
                path=name,
                line=number,
            )
        frame_dir = fields[0]
        offset = _int_field(fields[1], "offset", path=name, line=number, row=line) if with_offset else 0
        total = _int_field(fields[needed - 1], "total_frames", path=name, line=number, row=line)
        labels = [_int_field(v, "label", path=name, line=number, row=line) for v in fields[needed:]]
        if labelled and not labels:
            raise _unlabelled(line, layout, path=name, line=number)
        _check_range(labels, num_classes, path=name, line=number)
        if multi_label:
            label: int | list[int] | None = labels or None
        elif len(labels) > 1:
            raise AnnotationError(
                f"row {line!r} has {len(labels)} labels; expected {layout} (pass multi_label=True for several)",
                path=name,
                line=number,
            )
        else:
            label = labels[0] if labels else None
        return RawframeRecord(_join(prefix, frame_dir), total, label, offset, where=f"{name}:{number}")

    return _rows(path, on_error, row)


def parse_slowfast_list(
    path: str | os.PathLike[str],
    *,
    prefix: str | os.PathLike[str] | None = None,
    separator: str = " ",
    num_classes: int | None = None,
    labelled: bool = False,
    on_error: OnError | None = None,
) -> list[VideoRecord]:
    """Read a PySlowFast / PyTorchVideo list: ``<path><separator><label>`` per line.

    The label is split off from the right, so paths may contain the separator (spaces). A line whose last
    field is not an integer is a malformed row; a line without a separator is an unlabelled path (an error
    with ``labelled``). ``on_error`` receives each malformed row instead of raising it.
    """
    name = os.fspath(path)

    def row(number: int, line: str) -> VideoRecord:
        where = f"{name}:{number}"
        file, sep, last = line.rpartition(separator)
        if not sep:
            if labelled:
                raise _unlabelled(line, f"'<path>{separator}<label>'", path=name, line=number)
            return VideoRecord(_join(prefix, line), None, where=where)
        label = _int_field(last.strip(), "label", path=name, line=number, row=line)
        _check_range([label], num_classes, path=name, line=number)
        file = file.strip()
        if not file:
            raise AnnotationError(f"row {line!r} has an empty path", path=name, line=number)
        return VideoRecord(_join(prefix, file), label, where=where)

    return _rows(path, on_error, row)


def _seconds(value: str, what: str, *, path: str, line: int, row: str) -> float:
    try:
        number = float(value)
    except ValueError as e:
        raise AnnotationError(
            f"{what} {value!r} is not a number of seconds in row {row!r}", path=path, line=line
        ) from e
    if number < 0:
        raise AnnotationError(f"{what} {number} is negative in row {row!r}", path=path, line=line)
    return number


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@attrs.frozen
class PlainRow:
    """One row of a plain video list: the path as written, its label tokens (class names or 0-based
    indices, several for a multi-label row), an optional segment in seconds and the 1-based line number."""

    path: str
    labels: tuple[str, ...]
    start: float | None
    end: float | None
    line: int


def parse_plain_list(path: str | os.PathLike[str]) -> list[PlainRow]:
    """Read a plain video list: ``PATH LABEL[,LABEL...] [START END]`` per line.

    Fields are separated by whitespace, or by tabs when a line has one (then paths may contain spaces).
    A label is a class name or a 0-based class index; several labels separated by commas make a
    multi-label row. ``START END`` (seconds) restrict the clip to a segment of the file. A row with only a
    path is unlabelled. Lines starting with ``#`` are comments.
    """
    name = os.fspath(path)
    rows = []
    for number, line in _lines(path, None):
        if line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")] if "\t" in line else line.split()
        fields = [f for f in fields if f]
        start = end = None
        if len(fields) >= 4 and _is_number(fields[-1]) and _is_number(fields[-2]):
            start = _seconds(fields[-2], "start", path=name, line=number, row=line)
            end = _seconds(fields[-1], "end", path=name, line=number, row=line)
            if end <= start:
                raise AnnotationError(
                    f"segment end {end} must be after its start {start} in row {line!r}",
                    path=name,
                    line=number,
                )
            fields = fields[:-2]
        if len(fields) > 2:
            raise AnnotationError(
                f"row {line!r} has {len(fields)} fields; expected 'PATH LABEL[,LABEL...] [START END]' "
                "(separate the fields with tabs when paths contain spaces)",
                path=name,
                line=number,
            )
        labels: tuple[str, ...] = ()
        if len(fields) == 2:
            labels = tuple(v.strip() for v in fields[1].split(","))
            if any(not v for v in labels):
                raise AnnotationError(
                    f"row {line!r} has an empty label; write labels as 'a,b' without spaces or trailing "
                    "commas",
                    path=name,
                    line=number,
                )
        rows.append(PlainRow(fields[0], labels, start, end, number))
    return rows
