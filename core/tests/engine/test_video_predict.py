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
