"""Something-Something V1 CSVs and V2 JSON: labels from templates, flip maps, malformed rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from action_core.api import AnnotationError
from action_something import annotations
from action_something.datasets import sthv1_flip_label_map, sthv2_flip_label_map

FIXTURES = Path(__file__).parent / "fixtures"


def test_v1_labels_are_line_order_and_rows_split_on_semicolons() -> None:
    classes, train = annotations.load(FIXTURES, "train", 1)
    assert classes[:3] == [
        "Holding something",
        "Turning something upside down",
        "Turning the camera left while filming something",
    ]
    assert [(s.video, s.label) for s in train] == [("100218", 2), ("48032", 0), ("23573", 5)]
    _, val = annotations.load(FIXTURES, "val", 1)
    assert [(s.video, s.label) for s in val] == [("9223", 4)]
    _, test = annotations.load(FIXTURES, "test", 1)
    assert [(s.video, s.label) for s in test] == [("1420", None), ("85764", None)]


def test_v2_class_is_the_template_without_brackets_not_the_label() -> None:
    classes, train = annotations.load(FIXTURES, "train", 2)
    assert classes[1] == "Holding something next to something"
    assert [(s.video, s.label) for s in train] == [("78687.webm", 1), ("42326.webm", 2), ("100904.webm", 3)]
    assert train[1].where.endswith("something-something-v2-train.json:3")
    _, test = annotations.load(FIXTURES, "test", 2)
    assert [(s.video, s.label) for s in test] == [("1420.webm", None), ("85764.webm", None)]


def test_shipped_lists_and_flip_maps_match_mmaction2() -> None:
    v1, v2 = annotations.shipped_classes(1), annotations.shipped_classes(2)
    assert len(v1) == len(v2) == 174 and set(v1) == set(v2)
    assert v2 == sorted(v2)  # the V2 label JSON numbers templates alphabetically
    # MMAction2's configs: sthv1 flip_label_map {2: 4, 30: 41, 52: 66}, sthv2 {86: 87, 93: 94, 166: 167}, both ways.
    assert sthv1_flip_label_map() == {"2": 4, "4": 2, "30": 41, "41": 30, "52": 66, "66": 52}
    assert sthv2_flip_label_map() == {"86": 87, "87": 86, "93": 94, "94": 93, "166": 167, "167": 166}


@pytest.mark.parametrize(
    ("file", "text", "line", "message"),
    [
        (
            "something-something-v1-train.csv",
            "100218;Holding something\n48032 Holding something\n",
            2,
            "'<video_id>;<label>'",
        ),
        (
            "something-something-v1-train.csv",
            "100218;Holding something\n\n48032;Juggling something\n",
            3,
            "not in",
        ),
        ("something-something-v1-train.csv", "abc;Holding something\n", 1, "numeric video id"),
        (
            "something-something-v2-train.json",
            '[\n{"id": "1", "template": "Holding [something] next to [something]"},\n{"id": "2", "label": "x"}\n]',
            3,
            "no 'template'",
        ),
        (
            "something-something-v2-train.json",
            '[\n{"id": "1", "template": "Juggling [something]"}\n]',
            2,
            "not in the labels JSON",
        ),
        (
            "something-something-v2-train.json",
            '[\n{"id": "1", "template": "Holding [something]"},\n{"id": "2" "template": 1}\n]',
            3,
            "malformed JSON",
        ),
    ],
)
def test_malformed_rows_name_file_and_line(
    tmp_path: Path, file: str, text: str, line: int, message: str
) -> None:
    shutil.copytree(FIXTURES, tmp_path / "annotations")
    path = tmp_path / "annotations" / file
    path.write_text(text)
    with pytest.raises(AnnotationError) as err:
        annotations.load(tmp_path, "train", 1 if "v1" in file else 2)
    assert (err.value.path, err.value.line) == (str(path), line) and message in str(err.value)


def test_v2_labels_json_indices_must_be_contiguous(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    path.write_text('{"Holding something": "0", "Opening something": "2"}')
    with pytest.raises(AnnotationError, match="without gaps"):
        annotations.read_v2_labels(path)
