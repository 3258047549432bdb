"""``prepare`` machinery: matching, lists the data pipeline reads, rawframes and re-encoding that resume
after an interruption and never leave partial outputs."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest
import torch

from action_core.data import build_dataloader
from action_core.datasets import Sample
from action_core.datasets.building import build_dataset, build_from_list, list_path
from action_core.datasets.matching import match_samples
from action_core.datasets.media import parallel_map
from action_core.datasets.prepare import SplitSpec, add_prepare_arguments, run_prepare
from action_core.datasets.rawframes import FrameJob, extract_frames
from action_core.datasets.synth import tiny_pipeline, write_video

CLASSES = ["a", "b", "c"]


def _args(root: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_prepare_arguments(parser)
    return parser.parse_args(["--root", str(root), "--no-progress", "--workers", "1", *extra])


def _copy(root: Path, media) -> dict[str, SplitSpec]:
    """A miniature dataset: 12 train + 3 val clips annotated; 1 missing, 1 unreadable, 1 extra file."""
    train = [
        Sample(f"{c}/clip{i}.mp4", k, f"train.txt:{3 * k + i + 1}")
        for k, c in enumerate(CLASSES)
        for i in range(4)
    ]
    val = [Sample(f"{c}/val{k}.mp4", k, f"val.txt:{k + 1}") for k, c in enumerate(CLASSES)]
    names = [s.video for s in train[:-1] + val] + ["a/stray.mp4"]
    media.make_videos(root / "videos", names, num_frames=10, width=48, height=32)
    media.truncate(root / "videos" / train[0].video)
    return {"train": SplitSpec(train, "videos", "path"), "val": SplitSpec(val, "videos", "path")}


def test_matching_by_path_name_and_folder(tmp_path: Path, media) -> None:
    media.make_videos(tmp_path / "v", ["x/one.avi", "two.mkv", "deep/er/three.mp4"])
    (tmp_path / "f" / "100218").mkdir(parents=True)
    by_path = match_samples([Sample("x/one.avi"), Sample("two.mp4"), Sample("x/none.avi")], tmp_path, "v")
    assert [rel for _, rel in by_path.found] == ["v/x/one.avi", "v/two.mkv"]
    assert [s.video for s in by_path.missing] == ["x/none.avi"]
    assert by_path.extra == ["v/deep/er/three.mp4"]
    by_name = match_samples([Sample("three.mp4"), Sample("one.mp4")], tmp_path, "v", by="name")
    assert [rel for _, rel in by_name.found] == ["v/deep/er/three.mp4", "v/x/one.avi"]
    by_dir = match_samples([Sample("100218"), Sample("5")], tmp_path, "f", by="dir")
    assert [rel for _, rel in by_dir.found] == ["f/100218"] and by_dir.missing == [Sample("5")]


def test_prepare_reports_and_writes_lists_the_pipeline_trains_on(tmp_path: Path, media, capsys) -> None:
    splits = _copy(tmp_path, media)
    report, code = run_prepare("toy", splits, CLASSES, _args(tmp_path))
    assert code == 0
    train, val = report.splits
    assert (train.annotated, train.found, len(train.missing), len(train.unreadable), train.written) == (
        12,
        11,
        1,
        1,
        10,
    )
    assert train.missing == ["c/clip3.mp4"] and list(train.unreadable) == ["videos/a/clip0.mp4"]
    assert (val.found, val.written) == (3, 3)
    assert report.extra == ["videos/a/stray.mp4"]
    assert "1 missing" in capsys.readouterr().out
    lines = Path(list_path(tmp_path, "toy", "train")).read_text().splitlines()
    assert lines[0] == "videos/a/clip1.mp4 0" and len(lines) == 10
    assert (tmp_path / "lists/toy_classes.txt").read_text() == "a\nb\nc\n"
    assert (tmp_path / "lists/toy_prepare_report.json").is_file()
    ds = build_dataset(
        name="toy",
        split="train",
        root=tmp_path,
        pipeline=tiny_pipeline(),
        test_mode=False,
        classes=lambda: pytest.fail("the prepared class list is used"),
        samples=lambda: pytest.fail("lists are used"),
    )
    assert ds.classes == CLASSES and len(ds) == 10
    batch = next(iter(build_dataloader(ds, batch_size=4, num_workers=0, shuffle=True, seed=0)))
    assert batch["inputs"].shape == (4, 1, 2, 3, 32, 48) and batch["label"].dtype == torch.int64
    _, strict = run_prepare("toy", splits, CLASSES, _args(tmp_path, "--strict", "--no-probe"))
    assert strict == 1


def test_rawframes_are_extracted_resized_and_read_back(tmp_path: Path, media) -> None:
    splits = _copy(tmp_path, media)
    report, _ = run_prepare("toy", splits, CLASSES, _args(tmp_path, "--rawframes", "--short-side", "16"))
    assert report.splits[0].rawframes_done == 10
    frames = tmp_path / "rawframes/videos/a/clip1"
    assert sorted(os.listdir(frames)) == [f"img_{i:05d}.jpg" for i in range(1, 11)]
    rows = Path(list_path(tmp_path, "toy", "val", "rawframes")).read_text().splitlines()
    assert rows == [f"rawframes/videos/{c}/val{k} 10 {k}" for k, c in enumerate(CLASSES)]
    ds = build_from_list(
        list_path(tmp_path, "toy", "val", "rawframes"),
        root=tmp_path,
        modality="rawframes",
        pipeline=tiny_pipeline(),
        test_mode=True,
        classes=CLASSES,
    )
    item = ds[2]
    assert item["inputs"].shape == (1, 2, 3, 16, 24) and int(item["label"]) == 2


def test_an_interrupted_extraction_resumes_without_redoing_work(tmp_path: Path, media) -> None:
    splits = _copy(tmp_path, media)
    pairs = match_samples(splits["train"].samples[1:-1], tmp_path, "videos").found
    jobs = [
        FrameJob(str(tmp_path / rel), str(tmp_path / "rawframes" / Path(rel).with_suffix("")))
        for _, rel in pairs
    ]
    done = []

    def stop_after_three(job: FrameJob, result) -> None:
        done.append(job.out_dir)
        if len(done) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        parallel_map(extract_frames, jobs, progress=False, on_result=stop_after_three)
    finished = {d: os.stat(d).st_ino for d in done}
    present = [p for p in (tmp_path / "rawframes").rglob("*") if p.is_dir() and p.name.startswith("clip")]
    assert sorted(map(str, present)) == sorted(done)
    assert not list((tmp_path / "rawframes").rglob(".*partial*"))
    mtimes = {d: os.stat(Path(d) / "img_00001.jpg").st_mtime_ns for d in done}
    report, _ = run_prepare(
        "toy", {"train": splits["train"]}, CLASSES, _args(tmp_path, "--rawframes", "--workers", "2")
    )
    assert (report.splits[0].rawframes_done, report.splits[0].rawframes_skipped) == (7, 3)
    for d in done:
        assert os.stat(d).st_ino == finished[d]
        assert os.stat(Path(d) / "img_00001.jpg").st_mtime_ns == mtimes[d]


@pytest.mark.slow
def test_a_killed_extraction_leaves_no_partial_folder_and_is_redone(tmp_path: Path) -> None:
    video = write_video(tmp_path / "long.mp4", num_frames=400, width=64, height=48)
    out = tmp_path / "rawframes" / "long"
    code = (
        "import sys; from action_core.datasets.rawframes import FrameJob, extract_frames; "
        f"extract_frames(FrameJob({video!r}, {str(out)!r}))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 120
    partial = []
    while time.monotonic() < deadline and proc.poll() is None:
        partial = (
            [p for p in out.parent.glob(".long.partial-*") if len(list(p.iterdir())) >= 5]
            if out.parent.exists()
            else []
        )
        if partial:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait()
    if not partial:
        pytest.skip("the extraction finished before it could be interrupted")
    assert not out.exists(), "the final folder appears only when complete"
    result = extract_frames(FrameJob(video, str(out)))
    assert result.num_frames == 400 and not result.skipped
    assert len(os.listdir(out)) == 400
    assert not list(out.parent.glob(".long.partial-*"))


def test_reencode_gives_short_gops_and_resumes(tmp_path: Path, media) -> None:
    splits = _copy(tmp_path, media)
    report, _ = run_prepare(
        "toy",
        {"val": splits["val"]},
        CLASSES,
        _args(tmp_path, "--reencode", "--gop", "4", "--short-side", "16"),
    )
    assert report.splits[0].reencoded == 3
    rows = Path(list_path(tmp_path, "toy", "val")).read_text().splitlines()
    assert rows[0] == "videos_gop4_s16/videos/a/val0.mp4 0"
    with av.open(str(tmp_path / "videos_gop4_s16/videos/a/val0.mp4")) as c:
        stream = c.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (24, 16)
        keys = [p.is_keyframe for p in c.demux(stream) if p.size]
    assert len(keys) == 10 and [i for i, k in enumerate(keys) if k] == [0, 4, 8]
    again, _ = run_prepare(
        "toy",
        {"val": splits["val"]},
        CLASSES,
        _args(tmp_path, "--reencode", "--gop", "4", "--short-side", "16"),
    )
    assert (again.splits[0].reencoded, again.splits[0].reencode_skipped) == (0, 3)
