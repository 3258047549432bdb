"""``action-run doctor`` finds every planted fault in a miniature dataset, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from action_core.datasets.doctor import main, run_doctor
from action_core.datasets.synth import write_frames


def _faults(report) -> set[tuple[str, str]]:
    return {(Path(f.path).name, f.kind) for f in report.faults}


def _notices(report) -> set[tuple[str, str]]:
    return {(Path(f.path).name, f.kind) for f in report.notices}


def test_doctor_finds_every_planted_fault_in_a_video_list_and_nothing_else(
    tmp_path: Path, capsys, media
) -> None:
    videos = tmp_path / "videos"
    good = [f"class{i % 3}/clip{i}.mp4" for i in range(8)]
    media.make_videos(videos, good + ["class0/zero.mp4", "class1/cut.mp4"], num_frames=12)
    media.make_videos(videos, ["class2/header.avi", "class2/fine.avi"], num_frames=10)
    (videos / "class0/zero.mp4").write_bytes(b"")
    media.truncate(videos / "class1/cut.mp4")
    media.overstate_avi_header(videos / "class2/header.avi", 40)
    rows = [f"{name} {i % 5}" for i, name in enumerate(good)]
    rows += ["class0/zero.mp4 1", "class1/cut.mp4 2", "class2/header.avi 3", "class2/fine.avi 4"]
    rows += ["class1/clip1.mp4 7", "class0/gone.mp4 0"]  # label out of range (5 classes), missing file
    ann = tmp_path / "train_list.txt"
    ann.write_text("\n".join(rows) + "\n")

    code = main([str(ann), "--prefix", str(videos), "--num-classes", "5", "--no-progress"])
    assert code == 1
    report = run_doctor(
        [str(ann), "--prefix", str(videos), "--num-classes", "5", "--workers", "2", "--no-progress"]
    )
    assert report.checked == len(rows)
    assert _faults(report) == {
        ("zero.mp4", "empty"),
        ("cut.mp4", "unreadable"),
        ("clip1.mp4", "label_out_of_range"),
        ("gone.mp4", "missing"),
    }
    assert _notices(report) == {("header.avi", "header_frame_count")}
    header = next(f for f in report.notices if f.kind == "header_frame_count")
    assert "40" in header.detail and "10" in header.detail
    label = next(f for f in report.faults if f.kind == "label_out_of_range")
    assert label.where.endswith(f"train_list.txt:{len(rows) - 1}")
    saved = json.loads(Path(str(ann) + ".doctor.json").read_text())
    assert saved["counts"] == {
        k: 1 for k in ("empty", "unreadable", "header_frame_count", "label_out_of_range", "missing")
    }
    out = capsys.readouterr().out
    assert "4 problem(s)" in out and "gone.mp4" in out and "header.avi" in out


def test_a_clean_list_has_no_findings(tmp_path: Path, media) -> None:
    media.make_videos(tmp_path, ["a.mp4", "b.avi", "c.webm"], num_frames=9)
    ann = tmp_path / "list.txt"
    ann.write_text("a.mp4 0\nb.avi 1\nc.webm 2\n")
    report = run_doctor(
        [str(ann), "--num-classes", "3", "--min-frames", "9", "--report", str(tmp_path / "r.json")]
    )
    assert report.faults == []
    assert json.loads((tmp_path / "r.json").read_text())["checked"] == 3


def test_rawframe_lists_frame_counts_and_too_short_clips(tmp_path: Path) -> None:
    write_frames(tmp_path / "frames/a", num_frames=8)
    write_frames(tmp_path / "frames/b", num_frames=8)
    write_frames(tmp_path / "frames/c", num_frames=3)
    (tmp_path / "frames/d").mkdir()
    ann = tmp_path / "rawframes.txt"
    ann.write_text("frames/a 8 0\nframes/b 10 1\nframes/c 3 1\nframes/d 4 0\n")
    report = run_doctor([str(ann), "--min-frames", "4", "--num-classes", "2"])
    assert report.notes[0] == "read as an MMAction2 rawframes list"
    assert _faults(report) == {("b", "list_frame_count"), ("c", "too_short"), ("d", "empty")}


def test_multi_label_lists_check_every_label(tmp_path: Path, media) -> None:
    media.make_videos(tmp_path, ["a.mp4", "b.mp4"])
    ann = tmp_path / "mmit.txt"
    ann.write_text("a.mp4 1 312\nb.mp4 12 313\n")
    report = run_doctor([str(ann), "--num-classes", "313"])
    assert _faults(report) == {("b.mp4", "label_out_of_range")}


def test_clips_read_by_the_fallback_path_are_listed_without_failing(tmp_path: Path, capsys) -> None:
    corpus = Path(__file__).resolve().parents[1] / "video" / "corpus"
    ann = tmp_path / "list.txt"
    ann.write_text(f"{corpus}/h264_bframes_in_avi.avi 0\n{corpus}/xvid_packed_bf2.avi 1\n")
    code = main([str(ann), "--num-classes", "2", "--no-progress", "--report", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    report = json.loads((tmp_path / "r.json").read_text())
    slow = [Path(f["path"]).name for f in report["notices"] if f["kind"] == "fallback_read"]
    assert slow == ["h264_bframes_in_avi.avi"] and report["faults"] == []
    assert "read by decoding from the start" in out and "h264_bframes_in_avi.avi" in out
