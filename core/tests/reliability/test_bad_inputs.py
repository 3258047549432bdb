"""The commonest mistakes, one case each, through ``action-run`` as a user runs it: each ends with the exit
code and the one ``error:`` line (or the finding) that ``docs/troubleshooting.md`` shows, never a traceback.

The table below is the source of that page's table: a case's ``shows`` is a regular expression for the line
the user sees.
"""

from __future__ import annotations

import argparse
import json
import re
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
import tomli_w
from fuzzing import TRACEBACK, run_cli
from reliability_helpers import CLASSES, CORPUS, TEST_PIPELINE, experiment

from action_core.datasets.synth import write_video


@attrs.frozen
class Bench:
    """One case's folder: a good clip, a checkpoint, a data root with lists, a config over it."""

    box: Path
    clip: Path
    checkpoint: Path
    root: Path
    config: Path


@attrs.frozen
class Case:
    """``make(bench)`` writes the bad input and returns the command; the user sees ``code`` and ``shows``."""

    id: str
    make: Callable[[Bench], list[str]]
    code: int
    shows: str


def _predict(video: Path | str, bench: Bench, *extra: str) -> list[str]:
    return ["predict", str(video), "--checkpoint", str(bench.checkpoint), *extra]


def _train(bench: Bench, *extra: str) -> list[str]:
    return ["train", str(bench.config), "--work-dir", str(bench.box / "work"), "--device", "cpu", *extra]


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def _train_list(text: str | bytes) -> Callable[[Bench], list[str]]:
    def make(bench: Bench) -> list[str]:
        _write(bench.root / "train.txt", text)
        return _train(bench)

    return make


def _doctor_list(text: str, *extra: str) -> Callable[[Bench], list[str]]:
    def make(bench: Bench) -> list[str]:
        ann = _write(bench.root / "check.txt", text)
        return ["doctor", str(ann), "--no-progress", "--report", str(bench.box / "r.json"), *extra]

    return make


def _tiny_video(bench: Bench) -> list[str]:
    clip = write_video(bench.box / "tiny.mp4", num_frames=8, width=16, height=16)
    pipeline = [step for step in TEST_PIPELINE if step["type"] != "Resize"]
    pipeline[-2] = {"type": "CenterCrop", "crop_size": 56}
    cfg = experiment(str(bench.root))
    cfg["data"]["test"]["pipeline"] = pipeline
    config = _write(bench.box / "crop56.toml", tomli_w.dumps(cfg))
    return _predict(clip, bench, "--config", str(config))


def _tiny_video_in_training(bench: Bench) -> list[str]:
    # Read in a DataLoader worker: the error arrives wrapped with the worker's traceback in its message.
    write_video(bench.root / "tiny.mp4", num_frames=8, width=16, height=16)
    _write(bench.root / "train.txt", "good.mp4 0\ntiny.mp4 1\n")
    config = _write(bench.box / "crop56.toml", tomli_w.dumps(_crop56(bench)))
    return ["train", str(config), "--work-dir", str(bench.box / "work"), "--device", "cpu"]


def _crop56(bench: Bench) -> dict:
    cfg = experiment(str(bench.root))
    for split in ("train", "val", "test"):
        pipeline = [step for step in TEST_PIPELINE if step["type"] != "Resize"]
        pipeline[-2] = {"type": "CenterCrop", "crop_size": 56}
        cfg["data"][split]["pipeline"] = pipeline
    cfg["data"]["workers"] = 1
    cfg["data"]["batch_size"] = 1
    return cfg


def _no_decoder(bench: Bench) -> list[str]:
    data = bench.clip.read_bytes()
    return _predict(_write(bench.box / "nocodec.mp4", data.replace(b"avc1", b"qqqq")), bench)


def _mid_file_damage(bench: Bench) -> list[str]:
    import av
    import numpy as np

    clip = bench.box / "mjpeg.avi"
    rng = np.random.default_rng(0)
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuvj420p"
        for _ in range(20):
            image = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with av.open(str(clip)) as container:
        at, size = [(p.pos, p.size) for p in container.demux(video=0) if p.size][5]
    data = bytearray(clip.read_bytes())
    data[at : at + size] = bytes(size)
    clip.write_bytes(bytes(data))
    return _doctor_list("mjpeg.avi 0\n", "--prefix", str(bench.box))(bench)


def _pickled_checkpoint(bench: Bench) -> list[str]:
    import torch

    state = torch.load(bench.checkpoint, weights_only=True)
    state["meta"]["args"] = argparse.Namespace(lr=0.1)  # what MMCV-era checkpoints carry
    torch.save(state, bench.box / "old.pth")
    return ["predict", str(bench.clip), "--checkpoint", str(bench.box / "old.pth")]


def _other_model_checkpoint(bench: Bench) -> list[str]:
    import torch

    state = torch.load(bench.checkpoint, weights_only=True)
    state["model"]["head.weight"] = torch.zeros(5, 4)
    state["model"]["head.bias"] = torch.zeros(5)
    torch.save(state, bench.box / "other.pth")
    return ["predict", str(bench.clip), "--checkpoint", str(bench.box / "other.pth")]


def _truncated_checkpoint(bench: Bench) -> list[str]:
    data = bench.checkpoint.read_bytes()
    return _predict(bench.clip, bench)[:2] + [
        "--checkpoint",
        str(_write(bench.box / "cut.pth", data[: len(data) // 2])),
    ]


def _checkpoint_without_config(bench: Bench) -> list[str]:
    import torch

    state = torch.load(bench.checkpoint, weights_only=True)
    del state["meta"]["config"]
    torch.save(state, bench.box / "bare.pth")
    return ["predict", str(bench.clip), "--checkpoint", str(bench.box / "bare.pth")]


PREPARE_PLUGIN = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_commands(register):
    register("mini", "fake_mini.plugin:main", summary="prepare a dataset from its archive")


def main(argv):
    import argparse
    from action_core.api import add_prepare_arguments, extract_archives

    parser = argparse.ArgumentParser(prog="action-run mini")
    sub = parser.add_subparsers(dest="action", required=True)
    add_prepare_arguments(sub.add_parser("prepare"))
    extract_archives(parser.parse_args(argv))
    return 0
"""


def _archive(kind: str) -> Callable[[Bench], list[str]]:
    def make(bench: Bench) -> list[str]:
        import io

        path = bench.box / ("mini.zip" if kind == "escape" else "mini.tar.gz")
        if kind == "escape":
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr("mini/list.txt", "a.mp4 0\n")
                zf.writestr("../../escaped.txt", "pwned")
        else:
            with tarfile.open(path, "w:gz") as tf:
                info = tarfile.TarInfo("mini/list.txt")
                payload = "".join(f"clip_{i**7 % 1000003}.mp4 {i % 3}\n" for i in range(3000)).encode()
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
                if kind == "link":
                    link = tarfile.TarInfo("mini/videos")
                    link.type, link.linkname = tarfile.SYMTYPE, "../../.."
                    tf.addfile(link)
                if kind == "device":
                    dev = tarfile.TarInfo("mini/null")
                    dev.type = tarfile.CHRTYPE
                    tf.addfile(dev)
            if kind == "truncated":
                path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        return [
            "mini",
            "prepare",
            "--root",
            str(bench.box / "root"),
            "--extract",
            str(path),
            "--workers",
            "1",
        ]

    return make


def _work_dir_used_twice(bench: Bench) -> list[str]:
    _write(bench.box / "work" / "log.jsonl", '{"event": "epoch_end", "epoch": 1}\n')
    return _train(bench)


CASES = [
    # videos
    Case(
        "video-missing",
        lambda b: _predict(b.box / "nope.mp4", b),
        2,
        r"video file '.*nope.mp4' does not exist",
    ),
    Case("video-zero-bytes", lambda b: _predict(CORPUS / "zero_bytes.mp4", b), 2, r"is empty \(0 bytes\)"),
    Case(
        "video-truncated",
        lambda b: _predict(_write(b.box / "cut.mp4", b.clip.read_bytes()[:4000]), b),
        2,
        r"cannot open '.*cut.mp4'.*corrupt, truncated or not a video",
    ),
    Case(
        "video-not-a-video",
        lambda b: _predict(_write(b.box / "notes.mp4", "hello\n" * 50), b),
        2,
        r"cannot open '.*notes.mp4'.*not a video",
    ),
    Case("video-audio-only", lambda b: _predict(CORPUS / "audio_only.m4a", b), 2, r"has no video stream"),
    Case("video-folder", lambda b: _predict(b.box, b), 2, r"several videos, a folder or a list need --out"),
    Case("video-no-decoder", _no_decoder, 2, r"no decoder for its video stream"),
    Case("video-smaller-than-crop", _tiny_video, 2, r"tiny.mp4'?: CenterCrop 56x56 exceeds the 16x16 clip"),
    Case(
        "video-smaller-than-crop-training",
        _tiny_video_in_training,
        2,
        r"error: .*train.txt:\d: '.*\.mp4': CenterCrop 56x56 exceeds the \d+x\d+ clip; resize first$",
    ),
    Case(
        "video-damaged-mid-file",
        _mid_file_damage,
        1,
        r"unreadable: 1",
    ),
    Case(
        "video-latin1-title",
        lambda b: _predict(_latin1_title(b), b),
        0,
        r"^(walk|run|jump) ",
    ),
    # lists
    Case(
        "list-missing",
        lambda b: _train(b, "--set", "data.train.args.ann_file=nope.txt"),
        2,
        r"nope.txt: annotation file not found",
    ),
    Case("list-empty", _train_list("\n\n"), 2, r"train.txt: the list has no rows"),
    Case(
        "list-row-without-label",
        _train_list("good.mp4 0\ngood.mp4\n"),
        2,
        r"train.txt:2: row 'good.mp4' has no label",
    ),
    Case(
        "list-four-columns",
        _train_list("good.mp4 0 1 2\n"),
        2,
        r"train.txt:1: row 'good.mp4 0 1 2' has 4 fields",
    ),
    Case(
        "list-label-not-a-number",
        _train_list("good.mp4 walk\n"),
        2,
        r"train.txt:1: label 'walk' is not an integer",
    ),
    Case("list-negative-label", _train_list("good.mp4 -1\n"), 2, r"train.txt:1: label -1 is negative"),
    Case(
        "list-label-out-of-range",
        lambda b: (
            _train_list("good.mp4 7\n")(b) + ["--set", "data.train.args.classes=['walk', 'run', 'jump']"]
        ),
        2,
        r"train.txt:1: label 7 is out of range for 3 classes",
    ),
    Case(
        "list-tabs",
        _train_list("good.mp4\t0\n"),
        2,
        r"train.txt:1: row .* has no label \(its fields are separated by tabs",
    ),
    Case(
        "list-not-utf8",
        _train_list("caf\u00e9.mp4 0\n".encode("latin-1")),
        2,
        r"train.txt: not a UTF-8 text file",
    ),
    Case(
        "list-doctor-path-only",
        _doctor_list("good.mp4 0\ngood.mp4\n", "--num-classes", "3"),
        1,
        r"check.txt:2: row 'good.mp4' has no label",
    ),
    # configs
    Case("config-missing", lambda b: ["config", "show", str(b.box / "nope.toml")], 2, r"nope.toml"),
    Case(
        "config-malformed-toml",
        lambda b: ["config", "show", str(_write(b.box / "bad.toml", "[optim]\nlr = = 0.1\n"))],
        2,
        r"bad.toml: malformed TOML: .*line 2",
    ),
    Case(
        "config-not-utf8",
        lambda b: ["config", "show", str(_write(b.box / "l1.toml", "# caf\u00e9\n".encode("latin-1")))],
        2,
        r"l1.toml:1: not UTF-8 text",
    ),
    Case(
        "config-wrong-type",
        lambda b: ["config", "show", str(b.config), "--set", "optim.lr=fast"],
        2,
        r"optim.lr",
    ),
    Case(
        "config-bad-value",
        lambda b: ["config", "show", str(b.config), "--set", "data.batch_size=0"],
        2,
        r"data.batch_size",
    ),
    Case(
        "config-unknown-key", lambda b: ["config", "show", str(b.config), "--set", "optim.lrr=0.1"], 2, r"lrr"
    ),
    Case(
        "config-override-without-equals",
        lambda b: ["config", "show", str(b.config), "--set", "optim.lr"],
        2,
        r"dotted.key=value",
    ),
    Case("config-unknown-model", lambda b: _train(b, "--set", "model.type=tsm_r5"), 2, r"tsm_r5"),
    # checkpoints
    Case(
        "checkpoint-missing",
        lambda b: ["predict", str(b.clip), "--checkpoint", str(b.box / "no.pth")],
        2,
        r"'.*no.pth' is neither a checkpoint file nor a published checkpoint",
    ),
    Case(
        "checkpoint-pickled",
        _pickled_checkpoint,
        2,
        r"refusing to load checkpoint .*old.pth.*action-run convert .*old.pth.* --out clean.pth --trust-pickle",
    ),
    Case("checkpoint-other-model", _other_model_checkpoint, 2, r"other.pth' does not fit the TinyNet model"),
    Case("checkpoint-truncated", _truncated_checkpoint, 2, r"cut.pth' could not be read"),
    Case(
        "checkpoint-without-config",
        _checkpoint_without_config,
        2,
        r"bare.pth' does not carry its config .*give the config or preset it was trained with",
    ),
    # archives
    Case(
        "archive-escaping-member",
        _archive("escape"),
        2,
        r"member '\.\./\.\./escaped.txt' would be written outside",
    ),
    Case("archive-link-out", _archive("link"), 2, r"member 'mini/videos'.*leads outside the target folder"),
    Case("archive-device", _archive("device"), 2, r"is a device, FIFO or socket"),
    Case("archive-truncated", _archive("truncated"), 2, r"mini.tar.gz: the archive is corrupt or truncated"),
    # runs
    Case("work-dir-used-twice", _work_dir_used_twice, 2, r"--resume.*--overwrite|--overwrite.*--resume"),
]


def _latin1_title(bench: Bench) -> Path:
    import av
    import numpy as np

    path = bench.box / "latin1.mp4"
    with av.open(str(path), "w") as out:
        out.metadata["title"] = "MARKER"
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(8):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 30 * i, dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = path.read_bytes()
    at = data.index(b"MARKER")
    return _write(path, data[:at] + "Ça va ".encode("latin-1") + data[at + 6 :])


@pytest.fixture
def bench(tiny, make_plugin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Bench:
    make_plugin("mini", PREPARE_PLUGIN)
    box = tmp_path / "case"
    root = box / "data"
    root.mkdir(parents=True)
    (root / "good.mp4").write_bytes(tiny.clip.read_bytes())
    for split in ("train", "val", "test"):
        (root / f"{split}.txt").write_text("good.mp4 0\ngood.mp4 1\n")
    config = _write(box / "experiment.toml", tomli_w.dumps(experiment(str(root))))
    monkeypatch.chdir(box)
    return Bench(box=box, clip=tiny.clip, checkpoint=tiny.checkpoint, root=root, config=config)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_what_the_user_sees(bench: Bench, case: Case, record_property) -> None:
    outcome = run_cli(case.make(bench), timeout=60)
    assert TRACEBACK not in outcome.out + outcome.err, outcome.err
    shown = outcome.out if case.code in (0, 1) else outcome.err
    assert outcome.code == case.code, f"exit {outcome.code}:\n{outcome.out}\n{outcome.err}"
    assert re.search(case.shows, shown, re.MULTILINE), f"{case.shows!r} not in:\n{shown}"
    if case.code == 2:
        errors = [line for line in outcome.err.splitlines() if line.startswith("action-run: error:")]
        assert len(errors) == 1 and re.search(case.shows, errors[0]), outcome.err
    record_property("shows", next(line for line in shown.splitlines() if re.search(case.shows, line)))
    assert not (bench.box.parent / "escaped.txt").exists()


@pytest.mark.parametrize(
    "content", [b"\x80\x02R.", b"\x80\x02h\x47."], ids=["reduce-on-empty-stack", "unknown-memo"]
)
def test_damaged_checkpoint_bytes_are_one_line(bench: Bench, content: bytes) -> None:
    damaged = _write(bench.box / "damaged.pth", content)
    outcome = run_cli(["predict", str(bench.clip), "--checkpoint", str(damaged)])
    assert outcome.code == 2 and "damaged.pth" in outcome.err


def test_a_label_beyond_the_models_classes_is_one_line(bench: Bench) -> None:
    _write(bench.root / "train.txt", "good.mp4 7\n")
    outcome = run_cli(_train(bench))
    assert outcome.code == 2 and "train.txt:1" in outcome.err


def test_the_table_covers_every_kind_once() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)) >= 30
    assert json.dumps(CLASSES)
