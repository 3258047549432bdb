"""predict_video through the real test pipeline on a generated H.264 clip, and the overlay writer."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch
from tinyparts import TinyRecognizer3D, tiny_config

from action_core.engine.checkpoint import save_checkpoint
from action_core.engine.inference import predict_video
from action_core.engine.overlay import write_overlay_video

PIPELINE = [
    {"type": "SampleFrames", "clip_len": 4, "frame_interval": 1, "num_clips": 1, "test_mode": True},
    {"type": "DecodeFrames"},
    {"type": "Resize", "scale": [-1, 16]},
    {"type": "CenterCrop", "crop_size": 8},
    {"type": "Normalize", "mean": [128, 128, 128], "std": [64, 64, 64]},
    {"type": "FormatShape", "input_format": "NCTHW"},
]


def write_clip(path: Path, frames: int = 12, size: tuple[int, int] = (48, 64)) -> Path:
    rng = np.random.default_rng(0)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.height, stream.width = size
        stream.pix_fmt = "yuv420p"
        for _ in range(frames):
            image = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "clip.mp4")


def test_predict_video_uses_the_test_pipeline_and_checkpoint_classes(tmp_path: Path, clip: Path) -> None:
    torch.manual_seed(0)
    weights = TinyRecognizer3D().state_dict()
    names = ["walk", "run", "jump", "swim"]
    checkpoint = save_checkpoint({"model": weights, "meta": {"classes": names}}, tmp_path / "m.pth")
    cfg = tiny_config(data={"test": {"split": "test", "pipeline": PIPELINE}})
    top = predict_video(cfg, checkpoint, clip, top_k=3, model=TinyRecognizer3D(), views="2x1")
    assert len(top) == 3 and {n for n, _ in top} <= set(names)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    relabelled = predict_video(cfg, checkpoint, clip, top_k=1, model=TinyRecognizer3D(), views="2x1",
                               classes=["a", "b", "c", "d"])  # fmt: skip
    assert relabelled[0][0] == "abcd"[names.index(top[0][0])]
    assert relabelled[0][1] == pytest.approx(top[0][1])

    from action_core.data import VideoDataset, VideoRecord
    from action_core.engine.inference import apply_views, predict

    clip_views = VideoDataset([VideoRecord(str(clip))], apply_views(PIPELINE, "2x1"), test_mode=True)[0][
        "inputs"
    ]
    assert clip_views.shape == (2, 3, 4, 8, 8)  # two clips, one crop, NCTHW each
    model = TinyRecognizer3D()
    model.load_state_dict(weights)
    assert predict(model, clip_views, top_k=3, classes=names) == top


def test_overlay_video_keeps_frames_and_draws_text_in_the_corner(tmp_path: Path, clip: Path) -> None:
    out = write_overlay_video(
        clip, tmp_path / "out" / "pred.mp4", [("walk", 0.91), ("run", 0.05)], min_side=0
    )
    source, written = frames_of(clip), frames_of(out)
    assert len(written) == len(source) and written[0].shape == source[0].shape
    corner = np.abs(written[0][:16, :40].astype(int) - source[0][:16, :40].astype(int)).mean()
    rest = np.abs(written[0][32:, 40:].astype(int) - source[0][32:, 40:].astype(int)).mean()
    assert corner > 2 * rest
    assert not list((tmp_path / "out").glob(".*tmp*"))


def test_overlay_video_upscales_small_videos(tmp_path: Path, clip: Path) -> None:
    source = frames_of(clip)[0]
    out = write_overlay_video(
        clip, tmp_path / "big.mp4", [("walk", 0.91)], min_side=4 * min(source.shape[:2])
    )
    written = frames_of(out)[0]
    assert written.shape[:2] == (source.shape[0] * 4 // 2 * 2, source.shape[1] * 4 // 2 * 2)


def test_predict_video_with_normalisation_on_the_device_gives_the_same_scores(
    tmp_path: Path, clip: Path
) -> None:
    torch.manual_seed(0)
    weights = TinyRecognizer3D().state_dict()
    checkpoint = save_checkpoint({"model": weights, "meta": {"classes": list("abcd")}}, tmp_path / "m.pth")
    deferred = [{**s, "on_device": True} if s["type"] == "Normalize" else s for s in PIPELINE]
    tops = [
        predict_video(
            tiny_config(data={"test": {"split": "test", "pipeline": p}}),
            checkpoint,
            clip,
            top_k=4,
            model=TinyRecognizer3D(),
            views="2x1",
        )  # fmt: skip
        for p in (PIPELINE, deferred)
    ]
    assert tops[0] == tops[1]


CORPUS = Path(__file__).resolve().parents[1] / "video" / "corpus"


def _stream_facts(path: Path) -> tuple[float, int, tuple[int, int], list[str]]:
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        times = [float(f.pts * f.time_base) for f in c.decode(v)]
        width, height = v.codec_context.width, v.codec_context.height
    with av.open(str(path)) as c:
        audio = [s.codec_context.name for s in c.streams.audio]
    return times[-1] - times[0], len(times), (height, width), audio


def test_overlay_video_keeps_variable_frame_timing(tmp_path: Path) -> None:
    src = CORPUS / "vfr.mkv"
    out = write_overlay_video(src, tmp_path / "vfr.mp4", [("walk", 0.9)], min_side=0)
    (span_in, n_in, _, _), (span_out, n_out, _, _) = _stream_facts(src), _stream_facts(out)
    assert n_out == n_in and span_out == pytest.approx(span_in, abs=1e-3)


def test_overlay_video_is_written_upright(tmp_path: Path) -> None:
    out = write_overlay_video(CORPUS / "rotate_90.mp4", tmp_path / "r.mp4", [("walk", 0.9)], min_side=0)
    assert _stream_facts(out)[2] == (96, 72)  # the coded 96x72 clip is shown portrait


@pytest.mark.parametrize("audio_codec", ["aac", "pcm_s16le"])
def test_overlay_video_keeps_the_audio(tmp_path: Path, audio_codec: str) -> None:
    import av

    src = tmp_path / ("with_audio.mp4" if audio_codec == "aac" else "with_audio.mkv")
    with av.open(str(src), "w") as c:
        v = c.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        a = c.add_stream(audio_codec, rate=16000)
        a.layout = "mono"
        for i in range(25):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 9, np.uint8), format="rgb24")
            for p in v.encode(frame):
                c.mux(p)
        samples = (np.sin(np.arange(16000) / 5) * 8000).astype(np.int16)[None]
        fmt = "fltp" if audio_codec == "aac" else "s16"
        data = samples.astype(np.float32) / 32768 if fmt == "fltp" else samples
        af = av.AudioFrame.from_ndarray(data, format=fmt, layout="mono")
        af.sample_rate, af.pts = 16000, 0
        for p in a.encode(af):
            c.mux(p)
        for s in (v, a):
            for p in s.encode():
                c.mux(p)
    out = write_overlay_video(src, tmp_path / "out.mp4", [("walk", 0.9)], min_side=0)
    assert _stream_facts(out)[3] == ["aac"]
    with av.open(str(out)) as c:
        assert sum(f.samples for f in c.decode(audio=0)) >= 15000
