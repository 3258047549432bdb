"""The official Kinetics CSVs: clip naming, MMAction2's class numbering, variants and malformed rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_core.api import AnnotationError
from action_kinetics import annotations

FIXTURES = Path(__file__).parent / "fixtures"


def test_classes_are_sorted_converted_train_labels() -> None:
    classes = annotations.classes_from_train_csv(FIXTURES / "kinetics400_train.csv")
    assert classes == [
        "abseiling",
        "air_drumming",
        "passing_American_football_(in_game)",
        "throwing_ball_(not_baseball_or_American_football)",
        "zumba",
    ]


def test_sorting_happens_after_spaces_become_underscores(tmp_path: Path) -> None:
    # "a b" < "aB" with spaces, but "aB" < "a_b" with underscores; MMAction2 sorts the converted names.
    path = tmp_path / "train.csv"
    path.write_text('label,youtube_id,time_start,time_end,split\n"a b",x1,0,10,train\naB,x2,0,10,train\n')
    assert annotations.classes_from_train_csv(path) == ["aB", "a_b"]
    assert [s.label for s in annotations.read_split_csv(path, annotations.classes_from_train_csv(path))] == [
        1,
        0,
    ]


def test_clip_names_and_labels() -> None:
    classes = annotations.classes_from_train_csv(FIXTURES / "kinetics400_train.csv")
    train = annotations.read_split_csv(FIXTURES / "kinetics400_train.csv", classes)
    assert [(s.video, s.label) for s in train[:4]] == [
        ("-3B32lodo2M_000059_000069.mp4", 0),
        ("-7kbO0v4hag_000000_000010.mp4", 0),
        ("-VtLx-mcPds_000016_000026.mp4", 1),
        ("--ntSxPw4Jo_000004_000014.mp4", 2),
    ]
    assert train[5].video == "_-c6ipWPvHw_000106_000116.mp4" and train[5].label == 4
    val = annotations.read_split_csv(FIXTURES / "kinetics400_val.csv", classes)
    assert [s.label for s in val] == [4, 1] and val[1].where.endswith("kinetics400_val.csv:3")


def test_test_csv_without_label_column_and_is_cc_variant() -> None:
    test = annotations.read_split_csv(FIXTURES / "kinetics400_test.csv", None)
    assert [(s.video, s.label) for s in test] == [
        ("--0NTAs-fA0_000029_000039.mp4", None),
        ("--4oMkNAv_c_000003_000013.mp4", None),
    ]
    new = annotations.read_split_csv(
        FIXTURES / "kinetics700_2020_train.csv", annotations.shipped_classes(700)
    )
    assert [(s.video, s.label) for s in new] == [
        ("---QUuC4vJs_000003_000013.mp4", 0),
        ("--Uwu-ctUBs_000039_000049.mp4", 1),
    ]


def test_shipped_kinetics700_list_is_mmaction2_numbering() -> None:
    classes = annotations.shipped_classes(700)
    assert len(classes) == 700 and classes == sorted(classes) and len(set(classes)) == 700
    assert all(" " not in c and '"' not in c for c in classes)
    # Positions in MMAction2's tools/data/kinetics/label_map_k700.txt (lines 355 and 699, 1-based).
    assert classes.index("passing_American_football_(in_game)") == 354 and classes.index("yoga") == 698
    assert annotations.shipped_classes(400) is None  # needs the copy's train CSV


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        (["abseiling,-3B32lodo2M,59,69,train", "abseiling,x,1,train"], 3, "fields"),
        (["abseiling,-3B32lodo2M,59,69,train", "", "abseiling,x,one,11,train"], 4, "not a number"),
        (["abseiling,-3B32lodo2M,59,69,train", "abseiling,x,20,10,train"], 3, "not after"),
        (["abseiling,,59,69,train"], 2, "youtube_id"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path: Path, rows: list[str], line: int, message: str) -> None:
    path = tmp_path / "train.csv"
    path.write_text("label,youtube_id,time_start,time_end,split\n" + "\n".join(rows) + "\n")
    with pytest.raises(AnnotationError) as err:
        annotations.read_split_csv(path, ["abseiling"])
    assert (err.value.path, err.value.line) == (str(path), line) and message in str(err.value)


def test_unknown_label_and_bad_header(tmp_path: Path) -> None:
    path = tmp_path / "validate.csv"
    path.write_text("label,youtube_id,time_start,time_end,split\nnot a class,x,0,10,val\n")
    with pytest.raises(AnnotationError, match=r"validate.csv:2: label 'not a class' is not a class"):
        annotations.read_split_csv(path, ["abseiling"])
    path.write_text("label,id,start,end\n")
    with pytest.raises(AnnotationError, match="lacks youtube_id"):
        annotations.read_split_csv(path, None)
