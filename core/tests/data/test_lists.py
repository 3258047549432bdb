"""Annotation list parsers: the documented variants, and malformed rows reported with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_core.data import (
    AnnotationError,
    RawframeRecord,
    VideoRecord,
    parse_rawframe_list,
    parse_slowfast_list,
    parse_video_list,
)


def _write(tmp_path: Path, text: str, name: str = "list.txt") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_video_list_single_label_and_unlabelled(tmp_path: Path) -> None:
    p = _write(tmp_path, "some/path/000.mp4 1\nsome/path/001.mp4 0\n\nsome/path/test.mp4\n")
    assert parse_video_list(p, prefix="/data") == [
        VideoRecord("/data/some/path/000.mp4", 1),
        VideoRecord("/data/some/path/001.mp4", 0),
        VideoRecord("/data/some/path/test.mp4", None),
    ]


def test_video_list_delimiter_and_multi_label(tmp_path: Path) -> None:
    p = _write(tmp_path, "a b.mp4,3\nc.mp4,4\n")
    assert [r.label for r in parse_video_list(p, delimiter=",")] == [3, 4]
    assert parse_video_list(p, delimiter=",")[0].path == "a b.mp4"
    m = _write(tmp_path, "x.mp4 1 5 7\ny.mp4 2\nz.mp4\n", "multi.txt")
    recs = parse_video_list(m, multi_label=True, num_classes=8)
    assert [r.label for r in recs] == [[1, 5, 7], [2], None]


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("a.mp4 1\nb.mp4 x\n", 2, "not an integer"),
        ("a.mp4 1\n\nb.mp4 1 2\n", 3, "3 fields"),
        ("a.mp4 -1\n", 1, "negative"),
        ("a.mp4 1\nb.mp4 12\n", 2, "out of range for 10 classes"),
    ],
)
def test_video_list_malformed_rows_name_file_and_line(
    tmp_path: Path, text: str, line: int, match: str
) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(AnnotationError, match=match) as info:
        parse_video_list(p, num_classes=10)
    assert info.value.line == line and info.value.path == str(p)
    assert f"{p}:{line}" in str(info.value)


def test_missing_list_file(tmp_path: Path) -> None:
    with pytest.raises(AnnotationError, match="not found"):
        parse_video_list(tmp_path / "nope.txt")


def test_rawframe_list_variants(tmp_path: Path) -> None:
    plain = _write(tmp_path, "some/directory-1 163 1\nsome/directory-2 122 0\nsome/test 50\n")
    assert parse_rawframe_list(plain) == [
        RawframeRecord("some/directory-1", 163, 1),
        RawframeRecord("some/directory-2", 122, 0),
        RawframeRecord("some/test", 50, None),
    ]
    offset = _write(tmp_path, "some/directory-1 10 163 1\n", "offset.txt")
    assert parse_rawframe_list(offset, with_offset=True, prefix="root") == [
        RawframeRecord("root/some/directory-1", 163, 1, offset=10)
    ]
    multi = _write(tmp_path, "d1 30 1 4\nd2 20 0\n", "multi.txt")
    assert [r.label for r in parse_rawframe_list(multi, multi_label=True)] == [[1, 4], [0]]


@pytest.mark.parametrize(
    ("text", "kwargs", "line", "match"),
    [
        ("d1 10 1\nd2\n", {}, 2, "1 fields"),
        ("d1 10 1\nd2 ten 1\n", {}, 2, "total_frames 'ten'"),
        ("d1 10 1 2\n", {}, 1, "2 labels"),
        ("d1 5\n", {"with_offset": True}, 1, "expected <frame_dir> <offset> <total_frames>"),
        ("d1 x 10 1\n", {"with_offset": True}, 1, "offset 'x'"),
    ],
)
def test_rawframe_list_malformed(tmp_path: Path, text: str, kwargs: dict, line: int, match: str) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(AnnotationError, match=match) as info:
        parse_rawframe_list(p, **kwargs)
    assert info.value.line == line


def test_slowfast_list_paths_with_spaces_and_separator(tmp_path: Path) -> None:
    p = _write(tmp_path, "videos/abc.mp4 12\nvideos/my clip (1).mp4 3\n")
    recs = parse_slowfast_list(p, prefix="/k400")
    assert recs == [VideoRecord("/k400/videos/abc.mp4", 12), VideoRecord("/k400/videos/my clip (1).mp4", 3)]
    sep = _write(tmp_path, "a,b.mp4;7\n", "sep.txt")
    assert parse_slowfast_list(sep, separator=";") == [VideoRecord("a,b.mp4", 7)]
    bad = _write(tmp_path, "ok.mp4 1\nvideos/abc.mp4 twelve\n", "bad.txt")
    with pytest.raises(AnnotationError, match=r"bad.txt:2: label 'twelve'"):
        parse_slowfast_list(bad)


def test_records_validate() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        VideoRecord("a.mp4", -2)
    with pytest.raises(ValueError, match="after its start"):
        VideoRecord("a.mp4", 1, start=5.0, end=2.0)
    assert VideoRecord("a.mp4", (3, 1)).label == [3, 1]


@pytest.mark.parametrize(
    ("parse", "text", "kwargs"),
    [
        (parse_video_list, "a.mp4 1\nb.mp4\n", {}),
        (parse_video_list, "a.mp4 1\nb.mp4\n", {"multi_label": True}),
        (parse_rawframe_list, "d1 10 1\nd2 10\n", {}),
        (parse_rawframe_list, "d1 5 10 1\nd2 5 10\n", {"with_offset": True}),
        (parse_slowfast_list, "a.mp4 1\nb.mp4\n", {}),
    ],
)
def test_a_row_without_a_label_is_refused_in_a_labelled_list(tmp_path: Path, parse, text, kwargs) -> None:
    # Read as unlabelled, such a row became label -1 and failed deep in training ("Target -1 is out of
    # bounds"); a training list must say which row lacks its label.
    p = _write(tmp_path, text)
    assert parse(p, **kwargs)[1].label is None  # a test list may be unlabelled
    with pytest.raises(AnnotationError, match="has no label") as info:
        parse(p, labelled=True, **kwargs)
    assert info.value.line == 2 and f"{p}:2" in str(info.value)


@pytest.mark.parametrize("parse", [parse_video_list, parse_rawframe_list, parse_slowfast_list])
@pytest.mark.parametrize("text", ["", "\n\n   \n", "\ufeff"])
def test_an_empty_list_is_refused_naming_the_file(tmp_path: Path, parse, text: str) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(AnnotationError, match="no rows") as info:
        parse(p)
    assert info.value.path == str(p)


def test_every_bad_row_can_be_collected_instead_of_raised(tmp_path: Path) -> None:
    # What `action-run doctor` does: the parser that training uses, reporting every row it would refuse.
    p = _write(tmp_path, "a.mp4 1\nb.mp4\nc.mp4 x\nd.mp4 0 1 2\ne.mp4 2\n")
    errors: list[AnnotationError] = []
    records = parse_video_list(p, labelled=True, on_error=errors.append)
    assert [r.path for r in records] == ["a.mp4", "e.mp4"]
    assert [r.where for r in records] == [f"{p}:1", f"{p}:5"]
    assert [e.line for e in errors] == [2, 3, 4]
    empty = _write(tmp_path, "", "empty.txt")
    assert parse_video_list(empty, on_error=errors.append) == [] and errors[-1].line is None


def test_label_maps_that_cannot_be_read_are_annotation_errors(tmp_path: Path) -> None:
    from action_core.data.builders import video_list
    from action_core.datasets.building import read_classes_file

    _write(tmp_path, "a.mp4 0\n", "train.txt")
    (tmp_path / "latin1.txt").write_bytes("caf\u00e9\n".encode("latin-1"))
    for classes in ("latin1.txt", "missing.txt", "."):
        with pytest.raises(AnnotationError):
            video_list("train", root=str(tmp_path), pipeline=[], test_mode=True, classes=classes)
        with pytest.raises(AnnotationError):
            read_classes_file(tmp_path / classes)
