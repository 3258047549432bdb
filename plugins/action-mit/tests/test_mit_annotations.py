"""Moments in Time (labels from class folders) and Multi-Moments in Time (label lists) annotation files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from action_core.api import AnnotationError
from action_mit import annotations

FIXTURES = Path(__file__).parent / "fixtures"


def test_mit_label_is_the_category_index_of_the_clip_folder() -> None:
    classes, train = annotations.load(FIXTURES / "mit", "train", "mit")
    assert classes == ["clapping", "praying", "blocking", "adult+female+speaking"]
    assert [(s.video, s.label) for s in train] == [
        ("blocking/getty-karate-video-id635808620_4.mp4", 2),
        ("clapping/yt-0d2VbrEVQwY_33.mp4", 0),
        ("adult+female+speaking/flickr-1-0-4-8-7-8-9-8-8-11410487898_2.mp4", 3),
    ]
    _, test = annotations.load(FIXTURES / "mit", "test", "mit")
    assert [s.label for s in test] == [1]  # no test split: test is validation, as in MMAction2


def test_mmit_rows_carry_label_lists() -> None:
    classes, train = annotations.load(FIXTURES / "mmit", "train", "mmit")
    assert len(classes) == 50 and classes[:2] == ["crafting", "paddling"]
    assert [(s.video, s.label) for s in train] == [
        ("0-3-6-2-9-1-2-6-14603629126_5.mp4", (12, 40)),
        ("yt-4ryCQv5xN-E_86.mp4", (3,)),
        ("flickr-0-0-0-4-4-1-3-3-8-2400044138_17.mp4", (49, 0, 7)),
    ]
    assert annotations.match_mode(train) == "name"


def test_shipped_lists() -> None:
    mit, mmit = annotations.shipped_classes("mit"), annotations.shipped_classes("mmit")
    assert len(mit) == 339 and len(mmit) == 313
    # MMAction2's tools/data/mmit/label_map.txt: "crafting,0" ... "jogging,312"; mit label_map starts "clapping".
    assert (mmit[0], mmit[17], mmit[312]) == ("crafting", "stroking/petting", "jogging")
    assert mit[0] == "clapping" and mit[-1] == "typing"


@pytest.mark.parametrize(
    ("dataset", "file", "text", "line", "message"),
    [
        (
            "mit",
            "trainingSet.csv",
            "clapping/a.mp4,clapping,3,0\nno-folder.mp4,clapping,3,0\n",
            2,
            "no class folder",
        ),
        (
            "mit",
            "trainingSet.csv",
            "clapping/a.mp4,clapping,3,0\n\nwaltzing/b.mp4,waltzing,3,0\n",
            3,
            "not in the categories",
        ),
        ("mit", "trainingSet.csv", "clapping/a.mp4,praying,3,0\n", 1, "disagrees"),
        ("mmit", "trainingSet.csv", "a.mp4,12\nb.mp4,1,x\n", 2, "not a non-negative integer"),
        ("mmit", "trainingSet.csv", "a.mp4,12\nb.mp4,50\n", 2, "out of range for 50 classes"),
        ("mmit", "trainingSet.csv", "a.mp4\n", 1, "no labels"),
        ("mmit", "moments_categories.txt", "crafting,0\npaddling,one\n", 2, "'<class>,<index>'"),
    ],
)
def test_malformed_rows_name_file_and_line(
    tmp_path: Path, dataset: str, file: str, text: str, line: int, message: str
) -> None:
    shutil.copytree(FIXTURES / dataset, tmp_path / "annotations")
    path = tmp_path / "annotations" / file
    path.write_text(text)
    with pytest.raises(AnnotationError) as err:
        annotations.load(tmp_path, "train", dataset)
    assert (err.value.path, err.value.line) == (str(path), line) and message in str(err.value)
