"""Fuzzing ``action-run`` with damaged inputs: videos (bytes flipped, cut, zeroed in real files of the corpus),
annotation lists, config overrides and files, and hostile archives, through ``doctor``, ``predict``,
``config show`` and a dataset's ``prepare --extract``.

Every case must end cleanly: exit 0 (or 1 where the command reports findings) or 2 with one ``error:`` line,
never a Python traceback, never a hang (a watchdog per case; a subprocess where a hang in C code must be
caught), never a file outside the folders the command was given. Where the doctor passes an input, training's
own reading of it must pass too (they share the parser and the readers).

Cases are derandomized, so CI runs the same ones every time (ACTION_FUZZ_RANDOM=1 explores new ones,
ACTION_FUZZ_EXAMPLES=N changes how many). The whole module takes about a minute on two cores.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from fuzzing import (
    TRACEBACK,
    assert_written_only_under,
    budget,
    mutate,
    mutations,
    run_cli,
    snapshot,
)
from hypothesis import given
from hypothesis import strategies as st
from reliability_helpers import (
    CLASSES,
    CORPUS,
    TEST_PIPELINE,
    experiment,
    install_tiny_model,
    write_checkpoint,
)

from action_core.errors import ActionError

# Small corpus files of different containers and codecs (and one that is no video at all).
VIDEOS = [
    "h264_bframes.mp4",
    "vp9.webm",
    "mjpeg_webcam.avi",
    "xvid_packed_bf2.avi",
    "mpeg2_ts.ts",
    "hevc_10bit.mp4",
    "vfr.mkv",
    "audio_only.m4a",
]

TRAIN_PIPELINE = [
    {"type": "SampleFrames", "clip_len": 4, "frame_interval": 2, "num_clips": 2},
    {"type": "DecodeFrames"},
    {"type": "Resize", "scale": [-1, 16]},
    {"type": "RandomCrop", "size": 16},
    {"type": "FormatShape", "input_format": "NCTHW"},
]


@pytest.fixture
def sandbox(tmp_path: Path, make_plugin, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder the cases live in (and the working directory), with the tiny model plugin installed."""
    install_tiny_model(make_plugin)
    box = tmp_path / "box"
    (box / "cwd").mkdir(parents=True)
    monkeypatch.chdir(box / "cwd")
    return box


def _training_reads(records: list, *, draws: int = 3) -> None:
    """What training does with the records: the train pipeline, several random draws of each clip."""
    from action_core.data import VideoDataset

    dataset = VideoDataset(records, TRAIN_PIPELINE, test_mode=False)
    for i in range(len(dataset)):
        for _ in range(draws):
            dataset[i]


@given(name=st.sampled_from(VIDEOS), edits=mutations(), seed=st.integers(0, 2**16))
@budget(40)
def test_damaged_videos_through_predict_and_doctor(sandbox: Path, name: str, edits, seed: int) -> None:
    checkpoint = sandbox / "tiny.pth"
    if not checkpoint.exists():
        write_checkpoint(checkpoint)
    media, out = sandbox / "media", sandbox / "out"
    media.mkdir(exist_ok=True)
    video = media / f"damaged{Path(name).suffix}"
    video.write_bytes(mutate((CORPUS / name).read_bytes(), edits, seed))
    (media / "list.txt").write_text(f"{video.name} 1\n")
    before = snapshot(sandbox)

    predicted = run_cli(["predict", str(video), "--checkpoint", str(checkpoint), "--top-k", "2"]).check()
    doctor = run_cli(
        [
            "doctor",
            str(media / "list.txt"),
            "--num-classes",
            str(len(CLASSES)),
            "--no-progress",
            "--report",
            str(out / "doctor.json"),
        ]
    ).check(allowed=(0, 1))
    assert_written_only_under(sandbox, before, [out, sandbox / "cwd"])
    if doctor.code == 0:
        # What the doctor passes, training reads, and predict labels.
        from action_core.data import VideoRecord

        _training_reads([VideoRecord(str(video), 1)])
        assert predicted.code == 0, predicted.err


# -- annotation lists ---------------------------------------------------------------------------------

_PATHS = st.sampled_from(["good.mp4", "bad.mp4", "gone.mp4", "sub/ü ñ.mp4", "ü_ñ.mp4", "", "../good.mp4"])
_NUMBERS = st.sampled_from(
    ["0", "1", "2", "3", "-1", "x", "1.5", "1e3", "٣", "0x1", "99999999999999999999", "+1", "01", ""]
)
_SEPARATORS = st.sampled_from([" ", "  ", "\t", ",", " \t "])


@st.composite
def list_rows(draw: st.DrawFn) -> str:
    """One row: a path, then zero to three numbers, joined by spaces, tabs or commas; or noise."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=40))
    fields = [draw(_PATHS), *draw(st.lists(_NUMBERS, max_size=3))]
    return draw(_SEPARATORS).join(fields) + draw(st.sampled_from(["", " ", "\r"]))


@st.composite
def list_files(draw: st.DrawFn) -> bytes:
    """A list file: rows joined by newlines, maybe a BOM, maybe bytes that are not UTF-8."""
    text = "\n".join(draw(st.lists(list_rows(), max_size=6)))
    data = (("\ufeff" if draw(st.booleans()) else "") + text).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:
        data += b"\xff\xfe\x00garbage"
    return data


@given(data=list_files(), multi_label=st.booleans())
@budget(60)
def test_damaged_lists_through_doctor_and_the_training_builder(
    sandbox: Path, data: bytes, multi_label: bool
) -> None:
    from action_core.data import AnnotationError, SampleError
    from action_core.data.builders import video_list
    from action_core.video import MediaError

    root = sandbox / "data"
    if not root.exists():
        (root / "sub").mkdir(parents=True)
        good = root / "good.mp4"
        good.write_bytes((CORPUS / "h264_bframes.mp4").read_bytes())
        (root / "ü_ñ.mp4").write_bytes(good.read_bytes())
        (root / "bad.mp4").write_bytes(good.read_bytes()[:3000])
    ann = root / "train.txt"
    ann.write_bytes(data)
    out = sandbox / "out"
    before = snapshot(sandbox)
    args = [
        "doctor",
        str(ann),
        "--num-classes",
        str(len(CLASSES)),
        "--no-progress",
        "--report",
        str(out / "r.json"),
    ]
    doctor = run_cli(args + (["--multi-label"] if multi_label else [])).check(allowed=(0, 1, 2))
    assert_written_only_under(sandbox, before, [out, sandbox / "cwd"])
    try:
        dataset = video_list(
            "train",
            root=str(root),
            pipeline=TRAIN_PIPELINE,
            test_mode=False,
            multi_label=multi_label,
            num_classes=len(CLASSES),
        )
    except AnnotationError:
        refused = True
    else:
        refused = False
    if doctor.code == 2:  # the list itself cannot be read (not UTF-8): training says the same
        assert refused and "error:" in doctor.err
        return
    kinds = {f["kind"] for f in json.loads((out / "r.json").read_text())["faults"]}
    assert refused == bool(kinds & {"bad_row", "empty_list", "label_out_of_range"}), (kinds, data)
    if doctor.code == 0:
        assert not refused
        _training_reads(dataset.records, draws=1)
    elif not refused:
        with pytest.raises((MediaError, SampleError)):
            _training_reads(dataset.records, draws=1)


# -- configs ------------------------------------------------------------------------------------------

_KEYS = st.sampled_from(
    [
        "optim.lr",
        "optim.type",
        "optim.momentum",
        "data.batch_size",
        "data.workers",
        "data.dataset",
        "data.root",
        "data.train.pipeline",
        "data.train.split",
        "data.test.pipeline",
        "model.type",
        "model.num_classes",
        "model.args",
        "model",
        "schedule.epochs",
        "schedule.policy",
        "train.amp",
        "train.seed",
        "test.metrics",
        "nope.nothing",
        "optim.lr.deeper",
        "",
        ".",
        "a..b",
        "data.train.pipeline.0.type",
    ]
)
_VALUES = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "1.5",
            "1e999",
            "nan",
            "inf",
            "true",
            "null",
            "[",
            "]",
            "{",
            "[1, 'a']",
            "{a = 1}",
            '"text"',
            "'",
            "",
            "  ",
            "None",
            "0x10",
            "١٢",
            "[{type='Nope'}]",
            "[[[]]]",
            "9" * 40,
        ]
    ),  # fmt: skip
    st.text(max_size=30),
)


@given(overrides=st.lists(st.tuples(_KEYS, _VALUES), max_size=3), edits=st.none() | mutations())
@budget(60)
def test_wrong_config_values_through_config_show(sandbox: Path, overrides, edits) -> None:
    import tomli_w

    config = sandbox / "experiment.toml"
    text = tomli_w.dumps(experiment()).encode()
    config.write_bytes(text if edits is None else mutate(text, edits))
    before = snapshot(sandbox)
    args = ["config", "show", str(config)]
    for key, value in overrides:
        args += ["--set", f"{key}={value}"]
    run_cli(args).check()
    assert_written_only_under(sandbox, before, [sandbox / "cwd"])


# -- checkpoints --------------------------------------------------------------------------------------


@given(edits=mutations(), seed=st.integers(0, 2**16))
@budget(25)
def test_damaged_checkpoints_through_predict(sandbox: Path, edits, seed: int) -> None:
    good = sandbox / "tiny.pth"
    if not good.exists():
        write_checkpoint(good)
    damaged = sandbox / "damaged.pth"
    damaged.write_bytes(mutate(good.read_bytes(), edits, seed))
    clip = sandbox / "clip.mp4"
    clip.write_bytes((CORPUS / "h264_bframes.mp4").read_bytes())
    before = snapshot(sandbox)
    run_cli(["predict", str(clip), "--checkpoint", str(damaged)]).check()
    assert_written_only_under(sandbox, before, [sandbox / "cwd"])


# -- archives -----------------------------------------------------------------------------------------

PREPARE_PLUGIN = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_commands(register):
    register("fuzzset", "fake_fuzzset.plugin:main", summary="prepare a dataset from its archive")


def main(argv):
    # What a dataset plugin's prepare does, through core's shared machinery only.
    import argparse, os
    from action_core.api import Sample, SplitSpec, add_prepare_arguments, extract_archives, parse_video_list
    from action_core.api import run_prepare

    parser = argparse.ArgumentParser(prog="action-run fuzzset")
    sub = parser.add_subparsers(dest="action", required=True)
    add_prepare_arguments(sub.add_parser("prepare"))
    args = parser.parse_args(argv)
    extract_archives(args)
    rows = parse_video_list(os.path.join(args.root, "annotations", "train.txt"), labelled=True)
    samples = [Sample(r.path, r.label, r.where or "") for r in rows]
    return run_prepare("fuzzset", {"train": SplitSpec(samples, "videos")}, ["a", "b", "c"], args)[1]
"""

_MEMBER_NAMES = st.sampled_from(
    [
        "annotations/train.txt",
        "videos/a.mp4",
        "videos/b.mp4",
        "videos",
        "annotations",
        "../escaped.txt",
        "../../escaped.txt",
        "videos/../../escaped.txt",
        "/tmp/escaped-absolute.txt",
        "./videos/./c.mp4",
        "videos//d.mp4",
        "ü/ñ.txt",
        "x" * 300,
        "link",
        "link/inside.txt",
        "videos/link",
        "",
        ".",
    ]
)
_LINK_TARGETS = st.sampled_from(
    ["..", "../..", "/", "/tmp", "videos", "videos/a.mp4", "link", "../outside", "annotations/../..", "a/b/c"]
)


@st.composite
def archives(draw: st.DrawFn) -> tuple[str, list[tuple[str, str, str]]]:
    """A format and members: (name, kind, data or link target); kinds file, dir, symlink, hardlink, fifo,
    chardev."""
    fmt = draw(st.sampled_from(["tar", "tar.gz", "zip"]))
    kinds = ["file", "file", "file", "dir", "symlink", "hardlink", "fifo", "chardev"]
    members = [("annotations/train.txt", "file", "a.mp4 0\nb.mp4 1\n")]
    members += [("videos/a.mp4", "file", ""), ("videos/b.mp4", "file", "")]
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(kinds if fmt != "zip" else ["file", "file", "dir", "symlink"]))
        name = draw(_MEMBER_NAMES)
        extra = draw(_LINK_TARGETS) if kind in ("symlink", "hardlink") else draw(st.text(max_size=20))
        members.append((name, kind, extra))
    return fmt, members


def _write_archive(path: Path, fmt: str, members: list[tuple[str, str, str]], video: bytes) -> None:
    import io

    def data_of(name: str, text: str) -> bytes:
        return video if name.endswith(".mp4") else text.encode("utf-8", "surrogatepass")

    if fmt == "zip":
        with zipfile.ZipFile(path, "w") as zf:
            for name, kind, extra in members:
                info = zipfile.ZipInfo(name + ("/" if kind == "dir" and not name.endswith("/") else ""))
                if kind == "symlink":
                    info.external_attr = (0o120777 << 16) | 0x20
                    zf.writestr(info, extra)
                elif kind == "dir":
                    info.external_attr = (0o40755 << 16) | 0x10
                    zf.writestr(info, b"")
                else:
                    zf.writestr(info, data_of(name, extra))
        return
    types = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}
    types |= {"fifo": tarfile.FIFOTYPE, "chardev": tarfile.CHRTYPE}
    with tarfile.open(path, "w:gz" if fmt == "tar.gz" else "w") as tf:
        for name, kind, extra in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                payload = data_of(name, extra)
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
                continue
            info.type = types[kind]
            if kind in ("symlink", "hardlink"):
                info.linkname = extra
            tf.addfile(info)


@given(archive=archives(), damage=st.none() | mutations(), seed=st.integers(0, 2**16))
@budget(50)
def test_hostile_archives_through_prepare(sandbox: Path, make_plugin, archive, damage, seed: int) -> None:
    if not (sandbox.parent / "site" / "fake_fuzzset").exists():
        make_plugin("fuzzset", PREPARE_PLUGIN)
    fmt, members = archive
    work = sandbox / "case"
    if work.exists():
        import shutil

        shutil.rmtree(work)
    root, downloads = work / "root", work / "downloads"
    root.mkdir(parents=True)
    downloads.mkdir()
    path = downloads / f"fuzzset.{fmt}"
    _write_archive(path, fmt, members, (CORPUS / "h264_bframes.mp4").read_bytes())
    if damage is not None:
        path.write_bytes(mutate(path.read_bytes(), damage, seed))
    before = snapshot(sandbox)
    args = [
        "fuzzset",
        "prepare",
        "--root",
        str(root),
        "--extract",
        str(path),
        "--workers",
        "1",
        "--no-progress",
    ]
    run_cli(args).check(allowed=(0, 1, 2))
    assert_written_only_under(sandbox, before, [root, sandbox / "cwd"])
    assert not Path("/tmp/escaped-absolute.txt").exists()


# -- a hang in C code needs a process to kill ---------------------------------------------------------


def test_damaged_videos_never_hang_the_doctor_in_a_subprocess(tmp_path: Path) -> None:
    import random

    rng = random.Random(19)
    media = tmp_path / "media"
    media.mkdir()
    rows = []
    for i in range(24):
        name = VIDEOS[i % len(VIDEOS)]
        edits = [
            (
                rng.choice(["truncate", "flip", "zero", "garbage", "repeat"]),
                rng.random(),
                rng.randint(1, 4096),
            )
        ]
        clip = media / f"{i:02d}{Path(name).suffix}"
        clip.write_bytes(mutate((CORPUS / name).read_bytes(), edits, i))
        rows.append(f"{clip.name} {i % len(CLASSES)}\n")
    (media / "list.txt").write_text("".join(rows))
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "action_core.cli.main",
                "doctor",
                str(media / "list.txt"),
                "--no-progress",
            ],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"doctor hung on damaged videos: {e}")
    assert done.returncode in (0, 1) and TRACEBACK not in done.stdout + done.stderr, done.stderr[-3000:]
    assert "24 clips checked" in done.stdout


# -- training one step: the engine's part -------------------------------------------------------------

TRAIN_ONE_STEP = None
"""Hook point for the engine: a callable ``(config: dict, work_dir: Path) -> None`` that runs one optimiser
step of ``action-run train`` (for example ``Trainer(cfg, work_dir=...).fit(max_iters=1)``) once the engine
offers a bounded run. Until then the fuzzed lists stop at the dataset builder and the clip reads above."""


@pytest.mark.skipif(TRAIN_ONE_STEP is None, reason="needs an engine entry point that trains one step")
@given(data=list_files())
@budget(15)
def test_damaged_lists_train_one_step_or_fail_cleanly(sandbox: Path, data: bytes) -> None:
    root = sandbox / "data"
    root.mkdir(exist_ok=True)
    (root / "good.mp4").write_bytes((CORPUS / "h264_bframes.mp4").read_bytes())
    (root / "train.txt").write_bytes(data)
    (root / "val.txt").write_text("good.mp4 0\n")
    cfg = experiment(str(root))
    cfg["data"]["train"]["pipeline"] = TRAIN_PIPELINE
    with contextlib.suppress(ActionError):  # a clean refusal; anything else is a raw traceback
        TRAIN_ONE_STEP(cfg, sandbox / "work")  # type: ignore[misc]


def test_the_fuzz_inputs_are_real(sandbox: Path) -> None:
    """The unmutated inputs pass, so the fuzz cases start from working files."""
    checkpoint = write_checkpoint(sandbox / "tiny.pth")
    for name in VIDEOS[:-1]:
        assert run_cli(["predict", str(CORPUS / name), "--checkpoint", str(checkpoint)]).check().code == 0, (
            name
        )
    assert run_cli(["predict", str(CORPUS / "audio_only.m4a"), "--checkpoint", str(checkpoint)]).code == 2
    import tomli_w

    (sandbox / "e.toml").write_text(tomli_w.dumps(experiment()))
    assert run_cli(["config", "show", str(sandbox / "e.toml")]).check().code == 0
    assert TEST_PIPELINE[0]["type"] == "SampleFrames"
    assert os.path.isdir(sandbox / "cwd")
