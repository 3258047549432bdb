"""One's own videos (``video_folder``, issue 18): class folders, train/val/test folders or a plain list, a
seeded stratified split, the lists and label map written beside each other, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_core.data.lists import AnnotationError
from action_core.datasets.folder import (
    VideoFolderError,
    prepare_video_folder,
    read_split_list,
    scan_videos,
    stratified_split,
    video_folder,
)
from action_core.datasets.synth import write_video


def _tree(root: Path, counts: dict[str, int], *, real: bool = False) -> Path:
    for name, n in counts.items():
        for i in range(n):
            path = root / name / f"{name}_{i}.mp4"
            path.parent.mkdir(parents=True, exist_ok=True)
            if real:
                write_video(path, num_frames=6, seed=i)
            else:
                path.write_bytes(b"")  # scanning and splitting look at names only
    return root


def test_class_folders_give_sorted_classes_and_a_stratified_reproducible_split(tmp_path: Path) -> None:
    root = _tree(tmp_path / "videos", {"wave": 10, "clap": 7, "jump": 3})
    (root / "clap" / "notes.txt").write_text("not a video")
    (root / "clap" / "nested").mkdir()
    (root / "clap" / "nested" / "deep.mp4").write_bytes(b"")
    scan = scan_videos(root)
    assert scan.classes == ["clap", "jump", "wave"] and not scan.multi_label
    assert len(scan.samples) == 21 and "clap/nested/deep.mp4" in {s.video for s in scan.samples}
    split = stratified_split(scan.samples, seed=3)
    assert sum(len(v) for v in split.values()) == 21
    assert not set(s.video for s in split["train"]) & set(s.video for s in split["test"])
    for part in ("train", "val", "test"):  # every class in every split, even the one with 3 videos
        assert {s.label for s in split[part]} == {0, 1, 2}, part
    assert [s.video for s in stratified_split(list(reversed(scan.samples)), seed=3)["test"]] == [
        s.video for s in split["test"]
    ]
    assert any(
        [s.video for s in stratified_split(scan.samples, seed=seed)["test"]]
        != [s.video for s in split["test"]]
        for seed in (4, 5, 6)
    )


def test_prepare_writes_lists_and_label_map_that_the_dataset_reads(tmp_path: Path) -> None:
    root = _tree(tmp_path / "videos", {"b": 4, "a": 5})
    prepared = prepare_video_folder(root, tmp_path / "lists", seed=0)
    assert prepared.classes == ["a", "b"] and sum(prepared.counts.values()) == 9
    assert (tmp_path / "lists" / "classes.txt").read_text() == "a\nb\n"
    rows = (tmp_path / "lists" / "train.txt").read_text().splitlines()
    assert len(rows) == prepared.counts["train"] and all(r.split()[1] in ("0", "1") for r in rows)
    samples, classes, multi = read_split_list(tmp_path / "lists", "test")
    assert classes == ["a", "b"] and not multi and len(samples) == prepared.counts["test"]
    dataset = video_folder("test", root=str(root), pipeline=[], test_mode=True, lists=str(tmp_path / "lists"))
    assert dataset.classes == ["a", "b"] and len(dataset) == prepared.counts["test"]
    assert {Path(r.path).parent.name for r in dataset.records} == {"a", "b"}
    # without lists the same split is drawn in memory from the same seed
    in_memory = video_folder("test", root=str(root), pipeline=[], test_mode=True, seed=0)
    assert sorted(r.path for r in in_memory.records) == sorted(r.path for r in dataset.records)


def test_a_label_map_fixes_the_class_order_and_names_unknown_folders(tmp_path: Path) -> None:
    root = _tree(tmp_path / "videos", {"a": 3, "b": 3})
    scan = scan_videos(root, classes=["b", "a", "c"])
    assert scan.classes == ["b", "a", "c"]
    assert {s.video.split("/")[0]: s.label for s in scan.samples} == {"a": 1, "b": 0}
    with pytest.raises(VideoFolderError, match="class folder\\(s\\) b are not in the label map"):
        scan_videos(root, classes=["a"])
    (tmp_path / "map.txt").write_text("a\na\n")
    with pytest.raises(VideoFolderError, match="repeats a"):
        scan_videos(root, classes=str(tmp_path / "map.txt"))


def test_a_users_own_split_is_kept_and_a_missing_test_split_drawn_from_train(tmp_path: Path) -> None:
    _tree(tmp_path / "videos" / "train", {"a": 6, "b": 6})
    _tree(tmp_path / "videos" / "val", {"a": 1, "b": 1})
    prepared = prepare_video_folder(tmp_path / "videos", tmp_path / "lists")
    assert prepared.counts["val"] == 2 and prepared.counts["test"] > 0
    assert prepared.counts["train"] + prepared.counts["test"] == 12
    val = (tmp_path / "lists" / "val.txt").read_text()
    assert "val/a/a_0.mp4 0" in val and "val/b/b_0.mp4 1" in val


def test_a_plain_list_with_names_multi_label_and_segments(tmp_path: Path) -> None:
    for name in ("x.mp4", "y.mp4", "z w.mp4"):
        (tmp_path / name).write_bytes(b"")
    listing = tmp_path / "mine.txt"
    listing.write_text("# my videos\nx.mp4 run,jump\ny.mp4 jump 1.5 4\nz w.mp4\trun\t0\t2\n")
    scan = scan_videos(listing)
    assert scan.classes == ["jump", "run"] and scan.multi_label
    by_video = {s.video: s for s in scan.samples}
    assert by_video["x.mp4"].label == (0, 1) and by_video["y.mp4"].label == (0,)
    assert (by_video["y.mp4"].start, by_video["y.mp4"].end) == (1.5, 4.0)
    assert (by_video["z w.mp4"].start, by_video["z w.mp4"].end) == (0.0, 2.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a.mp4 run\nb.mp4 run walk now\n", "list.txt:2: .*4 fields"),
        ("a.mp4 run 3 1\n", "end 1.0 must be after its start 3.0"),
        ("a.mp4 run,\n", "empty label"),
    ],
)
def test_a_bad_list_row_names_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "b.mp4").write_bytes(b"")
    listing = tmp_path / "list.txt"
    listing.write_text(text)
    with pytest.raises(AnnotationError, match=message) as caught:
        scan_videos(listing)
    assert "list.txt" in str(caught.value)


def test_missing_videos_unknown_labels_and_too_few_videos_are_explained(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").write_bytes(b"")
    listing = tmp_path / "list.txt"
    listing.write_text("a.mp4 0\ngone.mp4 1\n")
    with pytest.raises(VideoFolderError, match="list.txt:2: gone.mp4"):
        scan_videos(listing)
    listing.write_text("a.mp4 walk\n")
    with pytest.raises(AnnotationError, match="label 'walk' is neither"):
        scan_videos(listing, classes=["run"])
    root = _tree(tmp_path / "few", {"a": 2, "b": 1})
    with pytest.raises(VideoFolderError, match="smallest class, 'b', has 1"):
        prepare_video_folder(root, tmp_path / "lists")
    with pytest.raises(VideoFolderError, match="no videos"):
        (tmp_path / "empty" / "a").mkdir(parents=True)
        scan_videos(tmp_path / "empty")
    with pytest.raises(VideoFolderError, match="neither a folder"):
        scan_videos(tmp_path / "nowhere")


def test_items_decode_with_their_labels(tmp_path: Path) -> None:
    root = _tree(tmp_path / "videos", {"a": 3, "b": 3}, real=True)
    pipeline = [
        {"type": "SampleFrames", "clip_len": 1, "frame_interval": 1, "num_clips": 2, "test_mode": True},
        {"type": "DecodeFrames"},
        {"type": "FormatShape", "input_format": "NCHW"},
    ]
    dataset = video_folder("train", root=str(root), pipeline=pipeline, test_mode=True)
    labels = {Path(r.path).parent.name: r.label for r in dataset.records}
    assert labels == {"a": 0, "b": 1}
    item = dataset[0]
    assert tuple(item["inputs"].shape) == (1, 2, 3, 24, 32)
    assert int(item["label"]) == dataset.records[0].label
