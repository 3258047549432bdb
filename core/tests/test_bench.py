"""`action-run bench data | train | infer` on tiny generated videos and a tiny model from a plugin."""

from __future__ import annotations

import re
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from action_core import hardware
from action_core.cli.main import main
from action_core.data import VideoDataset
from action_core.plugins.host import reset_host
from action_core.tools import bench
from action_core.video import VideoReader

PLUGIN = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_models(register):
    register("tiny_tsn", "fake_benchnet.models:tiny_tsn")
"""

MODELS = """
import torch
from torch import nn

class TinyTSN(nn.Module):
    input_format = "NTCHW"

    def __init__(self, num_classes, num_segments, width):
        super().__init__()
        self.num_segments = num_segments
        self.conv = nn.Conv2d(3, width, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(width)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        n, t = x.shape[:2]
        f = self.bn(self.conv(x.flatten(0, 1))).relu().mean(dim=(2, 3))
        return self.fc(f).view(n, t, -1).mean(dim=1)

    def loss(self, logits, target):
        return nn.functional.cross_entropy(logits, target)

def tiny_tsn(*, num_classes=4, num_segments=4, width=4, pretrained=False):
    return TinyTSN(num_classes, num_segments, width)
"""

PIPELINE = """
[[data.{split}.pipeline]]
type = "SampleFrames"
clip_len = 1
frame_interval = 1
num_clips = 4
{test_mode}
[[data.{split}.pipeline]]
type = "DecodeFrames"

[[data.{split}.pipeline]]
type = "{crop}"
{crop_key} = 24

[[data.{split}.pipeline]]
type = "Normalize"
mean = [127.5, 127.5, 127.5]
std = [64.0, 64.0, 64.0]

[[data.{split}.pipeline]]
type = "FormatShape"
input_format = "NCHW"
"""


def make_video(path: Path, num_frames: int, seed: int) -> Path:
    """A small H.264 clip with B-frames (x264 defaults), random texture that moves."""
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, size=(32 + num_frames, 40 + num_frames, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 40, 32, "yuv420p"
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(texture[i : i + 32, i : i + 40]), "rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench_videos")
    (root / "videos").mkdir()
    for k, frames in enumerate((20, 24, 30)):
        make_video(root / "videos" / f"clip{k}.mp4", frames, seed=k)
    lines = [f"videos/clip{k}.mp4 {k % 2}" for k in range(3)]
    for split in ("train", "val"):
        (root / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def config(video_dir: Path) -> Path:
    """A video_list experiment over the three videos, with the tiny plugin model."""
    head = f"""
[model]
type = "tiny_tsn"
num_classes = 2
args = {{ num_segments = 4, pretrained = true }}

[data]
dataset = "video_list"
root = "{video_dir}"
batch_size = 2
workers = 0

[data.train]
split = "train"

[data.val]
split = "val"

[data.test]
split = "val"

[optim]
type = "sgd"
lr = 0.01
grad_clip = 10.0
"""
    train = PIPELINE.format(split="train", test_mode="", crop="RandomCrop", crop_key="size")
    val = PIPELINE.format(split="val", test_mode="test_mode = true", crop="CenterCrop", crop_key="crop_size")
    test = PIPELINE.format(
        split="test", test_mode="test_mode = true", crop="CenterCrop", crop_key="crop_size"
    )
    path = video_dir / "bench.toml"
    path.write_text(head + train + val + test)
    return path


@pytest.fixture
def tiny_plugin(make_plugin):
    pkg = make_plugin("benchnet", PLUGIN)
    (pkg / "models.py").write_text(MODELS)
    reset_host()  # discover the plugin just installed, whatever earlier tests loaded


def test_naive_decode_equals_reader_frames(video_dir: Path) -> None:
    path = str(video_dir / "videos" / "clip2.mp4")
    indices = [17, 3, 3, 29, 0]
    frames, decoded = bench.naive_decode(path, indices)
    assert decoded == 30  # from the first frame up to the last one asked for
    with VideoReader(path) as reader:
        assert torch.equal(frames, reader.get_frames(indices, layout="TCHW"))
    assert bench.naive_decode(path, [4])[1] == 5
    with pytest.raises(bench.BenchError, match="clip2.mp4"):
        bench.naive_decode(path, [30])


def test_bench_data_measures_both_sides(video_dir: Path) -> None:
    pipeline = [
        {"type": "SampleFrames", "clip_len": 1, "frame_interval": 1, "num_clips": 4},
        {"type": "DecodeFrames"},
        {"type": "RandomCrop", "size": 24},
        {"type": "Flip", "flip_ratio": 0.5},
        {"type": "FormatShape", "input_format": "NCHW"},
    ]
    dataset = VideoDataset(bench.video_records(video_dir), pipeline)
    result = bench.bench_data(dataset, clips=6, warmup=1)
    assert result.clips == 6 and result.frames_per_clip == 4
    # Exact decoding + the same random crop/flip: both sides give identical tensors for every clip.
    assert result.same_output == 6
    # The baseline decodes from frame 0 to the last sampled frame (TSN: in the last quarter of the video).
    assert 0.75 * 20 <= result.naive_decoded <= 30
    assert 4 <= result.pipeline_decoded <= result.naive_decoded + 1e-9
    assert result.pipeline_clips_per_s > 0 and result.naive_clips_per_s > 0
    assert result.speedup == pytest.approx(result.naive_wall / result.pipeline_wall)
    text = result.render()
    assert "naive PyAV" in text and "ratio pipeline/naive" in text


def test_bench_data_command_on_a_video_list(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "data", str(config), "--clips", "4"]) == 0
    out = capsys.readouterr().out
    assert "'video_list' split 'train' (3 samples)" in out
    rates = re.findall(r"^(pipeline|naive PyAV)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, re.MULTILINE)
    assert [r[0] for r in rates] == ["pipeline", "naive PyAV"]
    assert all(float(r[1]) > 0 and float(r[3]) >= 4 for r in rates)
    assert re.search(r"ratio pipeline/naive clips/s: [\d.]+x wall, [\d.]+x cpu; 4 clips of 4 frames", out)
    assert "identical outputs 4/4" in out


def test_bench_data_command_on_a_video_folder(config: Path, video_dir: Path, capsys) -> None:
    args = ["bench", "data", str(config), "--videos", str(video_dir / "videos"), "--split", "val"]
    assert main([*args, "--clips", "3"]) == 0
    out = capsys.readouterr().out
    assert "3 videos under" in out and "identical outputs 3/3" in out


def test_bench_data_rejects_an_empty_folder(config: Path, tmp_path: Path, capsys) -> None:
    assert main(["bench", "data", str(config), "--videos", str(tmp_path)]) == 2
    assert "no video files" in capsys.readouterr().err


def _timing_rows(out: str) -> dict[str, float]:
    number = r"\s+([\d.]+)"
    rows = re.findall(
        rf"^(action \S+(?: \[[^\]]+\])?|mmaction2 \S+){number * 4}(?:\s+[\d.]+\s+\S+)?$", out, re.MULTILINE
    )
    # name, s/iter, data s/iter, clips/s, step CPU seconds (then GFLOP/s and the fraction of peak)
    assert all(float(cpu) >= 0 for *_, cpu in rows)
    return {name: float(s_iter) for name, s_iter, *_ in rows}


@pytest.mark.parametrize("mode", ["train", "infer"])
def test_bench_steps_on_synthetic_data(tiny_plugin, config: Path, mode: str, capsys) -> None:
    argv = [
        "bench",
        mode,
        str(config),
        "--synthetic-data",
        "--iters",
        "3",
        "--warmup",
        "1",
        "--device",
        "cpu",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "on synthetic data" in out
    # amp / channels_last "auto": fp32 on a CPU without native bf16; channels-last there only for inference
    # of a 2D model on AVX-512 (measured faster), contiguous otherwise
    native = hardware.native_bf16()
    precision = "bf16 autocast" if native else "fp32"
    infer_cl = mode == "infer" and hardware.cpu_kind() in hardware.CHANNELS_LAST_CPU_SPEEDUP[("infer", 2)]
    fmt = "channels_last" if native or infer_cl else "contiguous"
    assert "device cpu" in out and f"precision {precision}" in out and f"memory format {fmt}" in out
    # 2D model: (N, T, C, H, W) with T = 4 segments and the 24-pixel crop of the config.
    assert "batch size 2, input (2, 4, 3, 24, 24)" in out
    assert "median of 3 iterations" in out
    rows = _timing_rows(out)
    # inference runs what action-run test runs: batch norms folded (checked against the eager model)
    name = "action tiny_tsn" if mode == "train" else "action tiny_tsn [BN folded]"
    assert list(rows) == [name] and rows[name] > 0
    assert ("batch norm folded into" in out) == (mode == "infer")
    assert re.search(r"speed settings on cpu \(\w+\): amp=\w+ \(", out)
    assert re.search(
        rf"calibrated peak \({'bf16' if native else 'fp32'}, \d+ threads\): matmul [\d.]+, conv [\d.]+ GFLOP/s",
        out,
    )
    assert re.search(rf"{re.escape(name)} .* [\d.]+ +\d+%$", out, re.MULTILINE)


def test_bench_train_reads_the_dataset(tiny_plugin, config: Path, capsys) -> None:
    argv = ["bench", "train", str(config), "--iters", "2", "--warmup", "1", "--batch-size", "3"]
    assert main([*argv, "--amp", "bf16", "--channels-last", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "'video_list' train split" in out
    assert "precision bf16 autocast" in out and "memory format channels_last" in out
    assert "batch size 3, input (3, 4, 3, 24, 24)" in out
    data = re.search(r"^action tiny_tsn\s+([\d.]+)\s+([\d.]+)", out, re.MULTILINE)
    assert data is not None and 0 < float(data.group(2)) <= float(data.group(1))


def test_bench_steps_put_every_implementation_on_the_same_batches() -> None:
    seen: dict[str, list[int]] = {"a": [], "b": []}

    def step(name: str):
        return lambda inputs, target: seen[name].append(int(inputs.sum()))

    batches = iter({"inputs": torch.full((2, 1, 3), float(i)), "label": torch.zeros(2)} for i in range(4))
    result = bench.bench_steps(
        [("a", step("a")), ("b", step("b"))],
        batches,
        mode="train",
        device=torch.device("cpu"),
        iters=3,
        warmup=1,
    )
    assert seen["a"] == seen["b"] == [0, 6, 12, 18]
    assert [len(t.seconds) for t in result.times] == [3, 3]
    assert result.input_shape == (2, 3) and result.samples_per_iter == 2
    assert "ratio s/iter a / b" in result.render()
    one = iter([{"inputs": torch.zeros(1, 1, 3), "label": torch.zeros(1)}])
    with pytest.raises(bench.BenchError, match="ran out after 1 batches"):
        bench.bench_steps(
            [("a", step("a"))], one, mode="infer", device=torch.device("cpu"), iters=2, warmup=0
        )


def test_reference_without_mmaction_says_what_to_do(tiny_plugin, config: Path, capsys) -> None:
    try:
        import mmaction  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("mmaction is importable here; the message is for interpreters without it")
    argv = ["bench", "train", str(config), "--synthetic-data", "--reference", "mmaction2"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "'mmaction' package (MMAction2 1.x) is not importable" in err
    assert "separate environment" in err


def test_input_shape_follows_the_pipeline() -> None:
    class ThreeD(torch.nn.Module):
        input_format = "NCTHW"

    pipeline = [
        {"type": "SampleFrames", "clip_len": 32, "frame_interval": 2, "num_clips": 1},
        {"type": "DecodeFrames"},
        {"type": "Resize", "scale": [-1, 256]},
        {"type": "RandomResizedCrop"},
        {"type": "Resize", "scale": [224, 224], "keep_ratio": False},
    ]
    assert bench.input_shape_from_pipeline(pipeline, ThreeD(), batch_size=2) == (2, 3, 32, 224, 224)
    tsm = [
        {"type": "SampleFrames", "clip_len": 1, "num_clips": 8},
        {"type": "MultiScaleCrop", "input_size": 112},
    ]

    class TwoD(torch.nn.Module):
        input_format = "NTCHW"

    assert bench.input_shape_from_pipeline(tsm, TwoD(), batch_size=1) == (1, 8, 3, 112, 112)


def test_bench_modes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "speed"]) == 2
    assert "unknown mode 'speed'; use data, train or infer" in capsys.readouterr().err
    assert main(["bench", "--help"]) == 0
    assert "action-run bench {data,train,infer}" in capsys.readouterr().out
