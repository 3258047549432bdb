"""``action-run doctor`` finds every planted fault in a miniature dataset, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
    report = run_doctor([str(ann), "--num-classes", "313", "--multi-label"])
    assert _faults(report) == {("b.mp4", "label_out_of_range")}
    # Without --multi-label the rows are what a single-label training run refuses (it was guessed before).
    single = run_doctor([str(ann), "--num-classes", "313"])
    assert {(f.kind, f.where) for f in single.faults} == {("bad_row", f"{ann}:1"), ("bad_row", f"{ann}:2")}


def test_rows_training_refuses_are_faults_naming_file_and_line(tmp_path: Path, media, capsys) -> None:
    # Before, the doctor passed a path-only row and read a 4-column row as multi-label, and training then
    # refused the list (or, for the path-only row, failed on label -1).
    media.make_videos(tmp_path, ["a.mp4", "b.mp4", "ü_ñ.mp4"])
    ann = tmp_path / "train.txt"
    ann.write_text("a.mp4 0\nb.mp4\na.mp4 0 1 2\nb.mp4 x\nb.mp4 1\n")
    code = main([str(ann), "--num-classes", "3", "--no-progress", "--report", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert code == 1
    report = json.loads((tmp_path / "r.json").read_text())
    rows = {f["where"]: f["detail"] for f in report["faults"] if f["kind"] == "bad_row"}
    assert set(rows) == {f"{ann.resolve()}:{n}" for n in (2, 3, 4)}, out
    assert "has no label" in rows[f"{ann.resolve()}:2"] and "4 fields" in rows[f"{ann.resolve()}:3"]
    assert report["checked"] == 2 and f"{ann.resolve()}:2" in out
    from action_core.data import AnnotationError
    from action_core.data.builders import video_list

    with pytest.raises(AnnotationError, match=":2: row 'b.mp4' has no label"):
        video_list("train", root=str(tmp_path), pipeline=[], test_mode=False)
    # An unlabelled test list is fine when said so.
    ann.write_text("a.mp4\nü_ñ.mp4\n")
    assert run_doctor([str(ann), "--unlabelled", "--no-progress"]).faults == []


def test_an_empty_or_missing_list_is_a_fault_or_an_error(tmp_path: Path) -> None:
    ann = tmp_path / "train.txt"
    ann.write_text("\n\n")
    report = run_doctor([str(ann), "--no-progress"])
    assert [(f.kind, f.path) for f in report.faults] == [("empty_list", str(ann))]
    from action_core.data import AnnotationError

    with pytest.raises(AnnotationError, match="not found"):
        run_doctor([str(tmp_path / "lists" / "nope.txt")])


def test_damage_between_the_frames_a_quick_look_decodes_is_found(tmp_path: Path) -> None:
    # An MJPEG clip with one frame's data zeroed: its first, middle and last frames decode, so the doctor
    # passed it, and training then failed on the frames in between.
    import av
    import numpy as np

    clip = tmp_path / "mjpeg.avi"
    rng = np.random.default_rng(0)
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
        for _ in range(30):
            image = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with av.open(str(clip)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    data = bytearray(clip.read_bytes())
    at, size = packets[7]
    data[at : at + size] = bytes(size)
    clip.write_bytes(bytes(data))
    ann = tmp_path / "list.txt"
    ann.write_text("mjpeg.avi 0\n")
    assert _faults(run_doctor([str(ann), "--no-progress"])) == {("mjpeg.avi", "unreadable")}
    assert run_doctor([str(ann), "--no-progress", "--quick"]).faults == []  # what --quick trades away


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
