"""The long-video timeline: windows over a streamed video, segment finding, the JSON document, the PNG and
the labelled video, on videos whose colours (and so the right answers) change at known times."""

from __future__ import annotations

import json
import weakref
from pathlib import Path

import av
import numpy as np
import pytest
from colourparts import CLASSES, ColourRecognizer, config_dict, save_colour_checkpoint, write_colour_video

from action_core.api import (
    TIMELINE_SCHEMA,
    ExperimentConfig,
    Inferencer,
    MediaError,
    auto_views,
    default_window,
    find_segments,
    make_timeline,
    parse_span,
    parse_thresholds,
    sliding_windows,
    smooth_scores,
    write_timeline_video,
)
from action_core.apps.timeline import cell_bounds
from action_core.errors import ConfigError


def make_inferencer() -> Inferencer:
    return Inferencer(ColourRecognizer(), ExperimentConfig.from_dict(config_dict()), classes=CLASSES)


def test_spans_and_thresholds_parse_frames_seconds_and_labels() -> None:
    assert parse_span("16", 30) == 16 and parse_span("16f", 30) == 16 and parse_span(8, 30) == 8
    assert parse_span("2s", 30) == 60 and parse_span("0.5s", 8) == 4 and parse_span("500ms", 30) == 15
    for bad in ("2x", "-1", "1.5", "0", "0.01s"):
        with pytest.raises(ConfigError, match="--window"):
            parse_span(bad, 30)
    np.testing.assert_array_equal(parse_thresholds(None, CLASSES), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(parse_thresholds(["0.3", "blue=0.9"], CLASSES), [0.3, 0.3, 0.9])
    with pytest.raises(ConfigError, match="no class 'pink'"):
        parse_thresholds(["pink=0.2"], CLASSES)
    with pytest.raises(ConfigError, match=r"probability in \[0, 1\]"):
        parse_thresholds(["1.5"], CLASSES)


def test_default_window_and_views_follow_the_models_sampler() -> None:
    segments = [{"type": "SampleFrames", "clip_len": 1, "num_clips": 8, "test_mode": True}]
    clips = [
        {"type": "SampleFrames", "clip_len": 32, "frame_interval": 2, "num_clips": 10, "test_mode": True},
        {"type": "ThreeCrop", "crop_size": 256},
    ]
    assert default_window(segments, 25) == 50 and default_window(clips, 25) == 64
    assert auto_views(segments) is None and auto_views(clips) == "1x3"


def test_segments_follow_thresholds_gaps_and_minimum_length() -> None:
    classes = ["a", "b"]
    # Ten windows, one second each: a from 0 to 4 s with a one-window dip, b from 6 to 7 s.
    scores = np.zeros((10, 2))
    scores[[0, 1, 3], 0] = 0.9
    scores[2, 0] = 0.4
    scores[6, 1] = 0.8
    lo, hi = np.arange(10.0), np.arange(1.0, 11.0)
    plain = find_segments(scores, lo, hi, classes, thresholds=0.5)
    assert [(s.label, s.start, s.end) for s in plain] == [("a", 0, 2), ("a", 3, 4), ("b", 6, 7)]
    merged = find_segments(scores, lo, hi, classes, thresholds=0.5, merge_gap=1.0)
    assert [(s.label, s.start, s.end) for s in merged] == [("a", 0, 4), ("b", 6, 7)]
    assert merged[0].score == pytest.approx(0.9)  # the mean over the windows above threshold
    assert [s.label for s in find_segments(scores, lo, hi, classes, merge_gap=1, min_length=2)] == ["a"]
    assert find_segments(scores, lo, hi, classes, thresholds=np.array([0.95, 0.5])) == plain[2:]


def test_smoothing_and_cells() -> None:
    probs = np.array([[1.0], [0.0], [0.0], [1.0]])
    np.testing.assert_allclose(smooth_scores(probs, 3)[:, 0], [0.5, 1 / 3, 1 / 3, 0.5])
    np.testing.assert_array_equal(smooth_scores(probs, 1), probs)
    with pytest.raises(ConfigError, match="--smooth 0"):
        smooth_scores(probs, 0)
    lo, hi = cell_bounds(np.array([0.0, 1.0, 2.0]), np.array([2.0, 3.0, 4.0]), 4.5)
    np.testing.assert_allclose(lo, [0, 1.5, 2.5])
    np.testing.assert_allclose(hi, [1.5, 2.5, 4.5])


class _Frame:
    def __init__(self, index: int) -> None:
        self.index, self.time, self.arrival = index, index / 10, 0.0

    def rgb(self, short_side: int | None = None) -> np.ndarray:
        return np.zeros((4, 4, 3), np.uint8)


def test_sliding_windows_keep_one_window_of_frames_alive() -> None:
    alive: weakref.WeakSet[_Frame] = weakref.WeakSet()
    most = 0

    def frames(n: int):
        nonlocal most
        for i in range(n):
            frame = _Frame(i)
            alive.add(frame)
            most = max(most, len(alive))
            yield frame

    def run(n: int) -> list[tuple[int, int, float, float]]:
        return [
            (w.frames[0].index, w.frames[-1].index, w.start, w.end)
            for w in sliding_windows(frames(n), length=10, stride=4, fps=10, source="s")
        ]

    windows = run(100)
    # The ring buffer, the window the caller still holds and the frame being made; however long the stream.
    assert most <= 10 + 4 + 1
    run(1000)
    assert most <= 10 + 4 + 1
    assert windows[:2] == [(0, 9, 0.0, 1.0), (4, 13, 0.4, pytest.approx(1.4))]
    assert windows[-2][1] == 97 and windows[-1][:2] == (90, 99)  # a last window reaches the end
    assert [w[:2] for w in run(6)] == [(0, 5)]  # a stream shorter than a window is one window


@pytest.fixture(scope="module")
def rgb_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_colour_video(
        tmp_path_factory.mktemp("tl") / "rgb.mp4", [("red", 3.0), ("green", 3.0), ("blue", 3.0)], fps=10
    )


def test_timeline_finds_where_each_colour_is_shown(tmp_path: Path, rgb_video: Path) -> None:
    timeline = make_timeline(make_inferencer(), rgb_video, window="1s", stride="2", smooth=1)
    assert timeline.num_frames == 90 and timeline.duration == pytest.approx(9.0)
    assert (timeline.window_frames, timeline.stride_frames) == (10, 2)
    assert len(timeline.starts) == 41 and timeline.probs.shape == (41, 3)
    found = [(s.label, s.start, s.end) for s in timeline.segments]
    assert [f[0] for f in found] == ["red", "green", "blue"]
    for (_, start, end), (true_start, true_end) in zip(found, [(0, 3), (3, 6), (6, 9)], strict=True):
        assert abs(start - true_start) <= 0.21 and abs(end - true_end) <= 0.21  # one stride
    assert all(s.score > 0.9 for s in timeline.segments)
    # Settings applied again without running the model.
    assert timeline.with_segments(thresholds=[1.0, 1.0, 1.0]).segments == ()

    document = timeline.to_dict(scores=True)
    assert document["schema"] == TIMELINE_SCHEMA == "action-timeline/1"
    assert document["video"] == {"source": str(rgb_video), "fps": 10.0, "duration": 9.0, "frames": 90}
    assert document["window"] == {"frames": 10, "stride_frames": 2, "seconds": 1.0, "stride_seconds": 0.2}
    assert document["segmentation"] == {"threshold": 0.5, "merge_gap": 0.5, "min_length": 0.0}
    assert document["classes"] == CLASSES and len(document["windows"]) == 41
    assert document["windows"][0]["top_k"][0][0] == "red" and len(document["scores"][0]) == 3
    path = timeline.write_json(tmp_path / "out" / "t.json")
    assert json.loads(path.read_text())["segments"] == document["segments"]
    png = timeline.plot(tmp_path / "t.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # A 48x64 video is upscaled six times so the four lines (time and top 3) stay legible.
    labelled = write_timeline_video(timeline, rgb_video, tmp_path / "labelled.mp4")
    with av.open(str(labelled)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 90 and frames[0].shape == (288, 384, 3)
    white = (frames[45] > 200).all(axis=-1)
    assert white[:100].sum() >= 100 and not white[-150:].any()  # white label text, at the top only


def test_a_video_shorter_than_one_window_is_one_window(tmp_path: Path) -> None:
    video = write_colour_video(tmp_path / "short.mp4", [("green", 0.5)], fps=10)
    timeline = make_timeline(make_inferencer(), video, window="2s", smooth=3)
    assert len(timeline.starts) == 1 and timeline.duration == pytest.approx(0.5)
    assert [(s.label, s.start, s.end) for s in timeline.segments] == [("green", 0.0, 0.5)]


def test_unreadable_videos_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="does not exist"):
        make_timeline(make_inferencer(), tmp_path / "nope.mp4")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 10)
    with pytest.raises(MediaError, match="broken.mp4"):
        make_timeline(make_inferencer(), broken)


def test_cli_writes_the_json_png_and_video_and_names_the_segments(
    tmp_path: Path, rgb_video: Path, colour_plugin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from action_core.cli.main import main

    checkpoint = save_colour_checkpoint(tmp_path / "colour.pth")
    out = tmp_path / "res" / "rgb.json"
    options = ["--checkpoint", str(checkpoint), "--window", "1s", "--stride", "0.2s", "--smooth", "1"]
    options += ["--out", str(out), "--no-progress"]
    assert main(["timeline", str(rgb_video), *options]) == 0
    printed = capsys.readouterr()
    assert [line.split()[-2] for line in printed.out.splitlines()[1:]] == ["red", "green", "blue"]
    assert json.loads(out.read_text())["schema"] == "action-timeline/1"
    assert out.with_suffix(".png").is_file()
    assert main(["timeline", str(tmp_path / "gone.mp4"), *options[:2]]) == 2
    error = capsys.readouterr().err
    assert "gone.mp4" in error and "does not exist" in error
