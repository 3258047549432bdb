"""A third party publishes only a backbone; a config puts it under first-party parts (TPN's neck, core's I3D
head) and it trains, tests, saves and resumes through action-run, installed from wheels in a fresh venv
(issue 16's composition bar)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest

CONFIG = """
[model]
type = "Recognizer2D"
num_classes = 2

[model.args]
num_segments = 2

[model.backbone]
type = "tiny_two_stage"   # from action-tinybone, the third party
num_segments = 2
widths = [32, 64]

[model.neck]
type = "tpn"              # from action-tpn, first party
in_channels = [32, 64]
channels = 32             # TPN's grouped convolutions need multiples of 32
temporal_scales = [2, 2]
mid_channels = [32, 32]
fusion_channels = 64
out_channels = 64
aux_classes = 2

[model.head]
type = "i3d_head"         # from action-core
in_channels = 64
dropout_ratio = 0.0

[data]
dataset = "video_list"
batch_size = 2
workers = 0

[data.train]
split = "train"
args = { ann_file = "train.txt" }
pipeline = [
  { type = "SampleFrames", clip_len = 1, frame_interval = 1, num_clips = 2 },
  { type = "DecodeFrames" },
  { type = "CenterCrop", crop_size = 24 },
  { type = "Normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0] },
  { type = "FormatShape", input_format = "NCHW" },
]

[data.val]
split = "val"
args = { ann_file = "train.txt" }
pipeline = [
  { type = "SampleFrames", clip_len = 1, frame_interval = 1, num_clips = 2, test_mode = true },
  { type = "DecodeFrames" },
  { type = "CenterCrop", crop_size = 24 },
  { type = "Normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0] },
  { type = "FormatShape", input_format = "NCHW" },
]

[data.test]
split = "test"
args = { ann_file = "train.txt" }
pipeline = [
  { type = "SampleFrames", clip_len = 1, frame_interval = 1, num_clips = 2, test_mode = true },
  { type = "DecodeFrames" },
  { type = "CenterCrop", crop_size = 24 },
  { type = "Normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0] },
  { type = "FormatShape", input_format = "NCHW" },
]

[optim]
lr = 0.01

[schedule]
epochs = 1

[test]
metrics = ["top1"]
"""


def _clip(path: Path, label: int) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(8):
            img = np.full((32, 32, 3), 40 + 150 * label, np.uint8)
            img[:, (i * 4) % 32] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


@pytest.mark.slow
def test_a_third_party_backbone_under_first_party_parts_trains_tests_and_resumes(make_venv, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rows = []
    for i in range(6):
        _clip(data / f"clip{i}.mp4", i % 2)
        rows.append(f"clip{i}.mp4 {i % 2}")
    (data / "train.txt").write_text("\n".join(rows) + "\n")
    config = tmp_path / "composed.toml"
    config.write_text(textwrap.dedent(CONFIG))

    venv = make_venv()
    venv.install("action-core", "action-tpn", "action-tinybone")
    installed = {r["distribution"] for r in json.loads(venv.run("action-run", "plugins", "--json").stdout)}
    assert "action-tinybone" in installed and "action-hello" not in installed
    expanded = venv.run("action-run", "config", "show", str(config), "--expand").stdout
    assert 'type = "tiny_two_stage"' in expanded and 'type = "tpn"' in expanded

    work = tmp_path / "work"
    common = ["--data-root", str(data), "--device", "cpu"]
    venv.run("action-run", "train", str(config), "--work-dir", str(work), *common)
    assert (work / "epoch_1.pth").is_file() and (work / "last.pth").is_file()
    venv.run(
        "action-run", "train", str(config), "--work-dir", str(work), "--resume", "auto", *common,
        "--set", "schedule.epochs=2",
    )  # fmt: skip
    log = [json.loads(line) for line in (work / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log if r.get("event") == "epoch_end"] == [1, 2]  # resumed, not restarted
    tested = venv.run(
        "action-run", "test", str(config), "--checkpoint", str(work / "last.pth"), *common
    ).stdout
    assert "top1" in tested
