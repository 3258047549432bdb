"""Batch prediction into JSON lines: which videos a run finds, results written as they come, unreadable
files written as counted skips, a run started again resuming where the last one stopped, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from colourparts import CLASSES, ColourRecognizer, config_dict, save_colour_checkpoint, write_colour_video

from action_core.api import BatchSummary, ExperimentConfig, Inferencer, collect_videos, predict_batch
from action_core.apps.batch import read_finished
from action_core.errors import ConfigError


def make_inferencer() -> Inferencer:
    return Inferencer(ColourRecognizer(), ExperimentConfig.from_dict(config_dict()), classes=CLASSES)


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    """clips/{red,green}.mp4, clips/more/blue.mp4, a corrupt and an empty .mp4, and a text file."""
    root = tmp_path / "clips"
    (root / "more").mkdir(parents=True)
    write_colour_video(root / "red.mp4", [("red", 0.8)])
    write_colour_video(root / "green.mp4", [("green", 0.8)])
    write_colour_video(root / "more" / "blue.mp4", [("blue", 0.8)])
    (root / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    (root / "empty.mp4").touch()
    (root / "notes.txt.bak").write_text("not a video")
    return root


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_folders_lists_and_files_name_each_video_once(tmp_path: Path, clips: Path) -> None:
    found = collect_videos([clips])
    assert [name for name, _ in found] == [
        str(clips / n) for n in ("corrupt.mp4", "empty.mp4", "green.mp4", "more/blue.mp4", "red.mp4")
    ]
    listing = tmp_path / "clips" / "val.txt"
    listing.write_text("# a comment\nred.mp4 0\n\nmore/blue.mp4 2\nred.mp4\n")
    assert collect_videos([listing]) == [
        ("red.mp4", str(clips / "red.mp4")),
        ("more/blue.mp4", str(clips / "more/blue.mp4")),
    ]
    elsewhere = tmp_path / "val.list"
    elsewhere.write_text("red.mp4\n")
    assert collect_videos([elsewhere], root=str(clips)) == [("red.mp4", str(clips / "red.mp4"))]
    assert collect_videos(["a.mp4", "a.mp4", "b.mp4"]) == [("a.mp4", "a.mp4"), ("b.mp4", "b.mp4")]
    with pytest.raises(ConfigError, match="missing.txt.*does not exist"):
        collect_videos([tmp_path / "missing.txt"])


def test_results_skips_and_resuming(tmp_path: Path, clips: Path) -> None:
    out = tmp_path / "out" / "results.jsonl"
    inferencer = make_inferencer()
    summary = predict_batch(inferencer, [clips], out, workers=1, batch_size=2, top_k=2)
    assert isinstance(summary, BatchSummary)
    assert summary.predicted == 3 and summary.already_done == 0
    assert sorted(Path(name).name for name in summary.skipped) == ["corrupt.mp4", "empty.mp4"]
    assert "skipped 2 unreadable" in str(summary) and "corrupt.mp4" in str(summary)
    written = rows(out)
    assert [Path(r["id"]).name for r in written] == [
        "corrupt.mp4", "empty.mp4", "green.mp4", "blue.mp4", "red.mp4",
    ]  # fmt: skip
    labels = {Path(r["id"]).stem: r["top_k"][0][0] for r in written if "top_k" in r}
    assert labels == {"red": "red", "green": "green", "blue": "blue"}
    assert all(len(r["top_k"]) == 2 for r in written if "top_k" in r)
    errors = {Path(r["id"]).name: r for r in written if "error" in r}
    assert errors["empty.mp4"]["cause"] == "empty" and errors["corrupt.mp4"]["cause"] == "undecodable"
    assert "corrupt.mp4" in errors["corrupt.mp4"]["error"]

    # Run again: the three results stay; only the two skipped files are tried again (and skipped again).
    again = predict_batch(inferencer, [clips], out, workers=0)
    assert (again.predicted, again.already_done, len(again.skipped)) == (0, 3, 2)
    assert len(rows(out)) == 7
    # The corrupt file repaired: its result is added, the other results are not run again.
    write_colour_video(clips / "corrupt.mp4", [("blue", 0.8)])
    third = predict_batch(inferencer, [clips], out, workers=0)
    assert (third.predicted, third.already_done, len(third.skipped)) == (1, 3, 1)
    assert rows(out)[-2]["top_k"][0][0] == "blue"
    assert read_finished(out) == {
        str(clips / n) for n in ("corrupt.mp4", "green.mp4", "more/blue.mp4", "red.mp4")
    }
    # --overwrite starts afresh.
    fresh = predict_batch(inferencer, [clips], out, workers=0, overwrite=True)
    assert (fresh.predicted, fresh.already_done) == (4, 0) and len(rows(out)) == 5


def test_an_interrupted_last_line_is_dropped_and_that_video_run_again(tmp_path: Path, clips: Path) -> None:
    out = tmp_path / "results.jsonl"
    red, green = str(clips / "red.mp4"), str(clips / "green.mp4")
    finished = json.dumps({"id": red, "path": red, "top_k": [["red", 1.0]]})
    out.write_text(finished + "\n" + '{"id": "' + green + '", "path": "' + green + '", "top_')
    summary = predict_batch(make_inferencer(), [red, green], out, workers=0)
    assert (summary.predicted, summary.already_done) == (1, 1)
    written = rows(out)
    assert written[0] == json.loads(finished) and written[1]["id"] == green
    assert written[1]["top_k"][0][0] == "green"


def test_an_output_that_is_not_a_results_file_is_refused_not_appended_to(tmp_path: Path, clips: Path) -> None:
    out = tmp_path / "results.jsonl"
    out.write_text('{"id": "a"}\nthis is not JSON\n')
    with pytest.raises(ConfigError, match=r"results.jsonl:2: not a result line.*--overwrite"):
        predict_batch(make_inferencer(), [clips / "red.mp4"], out, workers=0)
    assert out.read_text() == '{"id": "a"}\nthis is not JSON\n'
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    with pytest.raises(ConfigError, match="no videos found in .*nothing"):
        predict_batch(make_inferencer(), [nothing], tmp_path / "new.jsonl", workers=0)


def test_cli_batch_run_exit_codes(tmp_path: Path, clips: Path, cli_env: dict) -> None:
    checkpoint = save_colour_checkpoint(tmp_path / "colour.pth")
    out = tmp_path / "results.jsonl"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable,
            "-m",
            "action_core.cli.main",
            "predict",
            *args,
            "--checkpoint",
            str(checkpoint),
        ]
        return subprocess.run(command, env=cli_env, capture_output=True, text=True, timeout=240)

    done = run(str(clips), "--out", str(out), "--workers", "1", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "predicted 3 video(s)" in done.stderr and "skipped 2 unreadable" in done.stderr
    assert len(rows(out)) == 5
    resumed = run(str(clips), "--out", str(out), "--workers", "0", "--no-progress")
    assert resumed.returncode == 0 and "3 already in the output" in resumed.stderr
    # Nothing readable at all is an error; several videos without --out are refused with a usage message.
    bad = run(str(clips / "corrupt.mp4"), str(clips / "empty.mp4"), "--out", str(tmp_path / "bad.jsonl"))
    assert bad.returncode == 1 and "no video could be read" in bad.stderr
    usage = run(str(clips / "red.mp4"), str(clips / "green.mp4"))
    assert usage.returncode == 2 and "need --out" in usage.stderr
