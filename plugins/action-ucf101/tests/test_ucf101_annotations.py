"""UCF101's official split files: parsing, MMAction2's label numbering and errors naming file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from action_core.api import AnnotationError
from action_ucf101 import annotations

FIXTURES = Path(__file__).parent / "fixtures"


def test_class_ind_gives_mmaction2_labels_id_minus_one() -> None:
    classes = annotations.read_class_ind(FIXTURES / "classInd.txt")
    assert len(classes) == 101
    assert classes == annotations.shipped_classes()
    # classInd is not in code-point order ("Hammering" 35 before "HammerThrow" 36): ids are taken as written.
    assert classes[34:36] == ["Hammering", "HammerThrow"]
    assert classes[0] == "ApplyEyeMakeup" and classes[100] == "YoYo"


def test_train_list_labels_and_crlf() -> None:
    classes = annotations.read_class_ind(FIXTURES / "classInd.txt")
    samples = annotations.read_split_list(FIXTURES / "trainlist01.txt", classes)
    assert [(s.video, s.label) for s in samples] == [
        ("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi", 0),
        ("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c02.avi", 0),
        ("HandstandPushups/v_HandStandPushups_g08_c01.avi", 36),
        ("Hammering/v_Hammering_g08_c01.avi", 34),
        ("HammerThrow/v_HammerThrow_g08_c01.avi", 35),
        ("YoYo/v_YoYo_g25_c05.avi", 100),
    ]
    assert samples[2].where.endswith("trainlist01.txt:3")


def test_test_list_takes_labels_from_the_class_folder() -> None:
    classes = annotations.read_class_ind(FIXTURES / "classInd.txt")
    samples = annotations.read_split_list(FIXTURES / "testlist01.txt", classes)
    assert [s.label for s in samples] == [0, 36, 100]


@pytest.mark.parametrize(
    ("file", "text", "line", "message"),
    [
        (
            "trainlist01.txt",
            "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\nArchery/v_Archery_g01_c01.avi 2\r\n",
            2,
            "disagrees",
        ),
        (
            "trainlist01.txt",
            "Archery/v_Archery_g01_c01.avi 3\r\nArchery/v_Archery_g01_c02.avi three\r\n",
            2,
            "positive integer",
        ),
        (
            "trainlist01.txt",
            "Archery/v_Archery_g01_c01.avi 3\r\n\r\nNoSuchClass/v_x.avi 3\r\n",
            3,
            "not in classInd",
        ),
        ("testlist01.txt", "Archery/v_Archery_g01_c01.avi 3 extra\r\n", 1, "is not"),
        ("classInd.txt", "1 ApplyEyeMakeup\r\n2\r\n", 2, "1-based id"),
    ],
)
def test_malformed_rows_name_file_and_line(
    tmp_path: Path, file: str, text: str, line: int, message: str
) -> None:
    path = tmp_path / file
    path.write_bytes(text.encode())
    with pytest.raises(AnnotationError) as err:
        if file == "classInd.txt":
            annotations.read_class_ind(path)
        else:
            annotations.read_split_list(path, annotations.shipped_classes())
    assert err.value.path == str(path) and err.value.line == line
    assert f"{path}:{line}" in str(err.value) and message in str(err.value)


def test_zero_based_ids_in_class_ind_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "classInd.txt"
    path.write_text("0 ApplyEyeMakeup\n1 ApplyLipstick\n")
    with pytest.raises(AnnotationError, match="1-based"):
        annotations.read_class_ind(path)


def test_load_finds_the_official_layout(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "ucfTrainTestlist")
    shutil.copy(FIXTURES / "testlist01.txt", tmp_path / "ucfTrainTestlist" / "testlist02.txt")
    classes, samples = annotations.load(tmp_path, "val", 2)
    assert len(classes) == 101 and len(samples) == 3
    with pytest.raises(ValueError, match="splits 1, 2 and 3"):
        annotations.load(tmp_path, "train", 4)
