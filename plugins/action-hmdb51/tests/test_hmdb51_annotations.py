"""HMDB51's split files: flags, class numbering (sorted names, as MMAction2) and errors naming file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from action_core.api import AnnotationError
from action_hmdb51 import annotations

FIXTURES = Path(__file__).parent / "fixtures"


def test_shipped_classes_are_the_51_sorted_names() -> None:
    classes = annotations.shipped_classes()
    assert len(classes) == 51 and classes == sorted(classes)
    assert classes[0] == "brush_hair" and classes[50] == "wave"


def test_flags_select_train_and_test_rows_and_classes_are_sorted_names() -> None:
    classes, train = annotations.load(FIXTURES, "train", 1)
    assert classes == ["brush_hair", "draw_sword", "wave"]
    assert [(s.video, s.label) for s in train] == [
        ("brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi", 0),
        ("draw_sword/Ninja_draw_sword_u_nm_np1_fr_goo_0.avi", 1),
        ("wave/#20_Rhythm_clap_u_nm_np1_fr_goo_0.avi", 2),
    ]
    _, test = annotations.load(FIXTURES, "test", 1)
    assert [s.label for s in test] == [0, 1, 2]
    assert test[1].video == "draw_sword/Veoh_Alpha_Dog_1_draw_sword_f_nm_np1_ri_med_12.avi"
    _, train2 = annotations.load(FIXTURES, "train", 2)
    assert {s.video for s in train2} == {s.video for s in test}  # split 2 swaps the roles in these fixtures
    assert all("Blonde" not in s.video for s in train + test)  # flag 0: unused


def test_the_full_release_numbering_matches_the_shipped_list(tmp_path: Path) -> None:
    ann = tmp_path / "testTrainMulti_7030_splits"
    ann.mkdir()
    for cls in annotations.shipped_classes():
        for n in (1, 2, 3):
            (ann / f"{cls}_test_split{n}.txt").write_text(f"{cls}_0.avi 1 \n{cls}_1.avi 2 \n")
    assert len(list(ann.iterdir())) == 153
    classes, train = annotations.load(tmp_path, "train", 3)
    assert classes == annotations.shipped_classes()
    assert [s.label for s in train] == list(range(51))


def test_malformed_row_names_file_and_line(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "testTrainMulti_7030_splits", tmp_path / "annotations")
    bad = tmp_path / "annotations" / "wave_test_split1.txt"
    bad.write_text("a.avi 1 \nb.avi 3 \n")
    with pytest.raises(AnnotationError) as err:
        annotations.load(tmp_path, "train", 1)
    assert err.value.path == str(bad) and err.value.line == 2 and "flag" in str(err.value)


def test_a_missing_split_file_is_named(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "testTrainMulti_7030_splits", tmp_path / "annotations")
    (tmp_path / "annotations" / "wave_test_split2.txt").unlink()
    annotations.load(tmp_path, "train", 1)
    with pytest.raises(AnnotationError, match="wave_test_split2.txt"):
        annotations.load(tmp_path, "train", 2)
