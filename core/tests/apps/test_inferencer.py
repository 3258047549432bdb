"""The Inferencer on real videos and a model whose answers are known: how it is built, what each input
kind gives, batching across videos, unreadable files as skips, embeddings."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch
from colourparts import (
    CLASSES,
    PIPELINE,
    ColourRecognizer,
    config_dict,
    save_colour_checkpoint,
    write_colour_video,
)

from action_core.api import ClassScore, ExperimentConfig, Inferencer, Prediction, Skipped
from action_core.engine.inference import predict_video
from action_core.errors import ConfigError
from action_core.video import MediaError


@pytest.fixture
def videos(tmp_path: Path) -> dict[str, Path]:
    return {
        name: write_colour_video(tmp_path / f"{name}.mp4", [(name, 1.2)], fps=10)
        for name in ("red", "green", "blue")
    }


def make_inferencer(**options) -> Inferencer:
    return Inferencer(
        ColourRecognizer(), ExperimentConfig.from_dict(config_dict()), classes=CLASSES, **options
    )


def test_a_training_checkpoint_alone_builds_it_and_it_agrees_with_predict_video(
    tmp_path: Path, colour_plugin: Path, videos: dict[str, Path]
) -> None:
    checkpoint = save_colour_checkpoint(tmp_path / "colour.pth")
    inferencer = Inferencer.load(checkpoint, top_k=2)
    assert inferencer.classes == CLASSES and inferencer.device.type == "cpu"
    assert inferencer.amp in ("none", "bf16") and inferencer.batch_size == 4
    for name, path in videos.items():
        prediction = inferencer.predict(path)
        assert isinstance(prediction, Prediction) and prediction.label == name and prediction.score > 0.9
        assert len(prediction.top_k) == 2 and prediction.probs.shape == (3,)
        assert prediction.probs.sum() == pytest.approx(1.0, abs=1e-5)
        cfg = ExperimentConfig.from_dict(config_dict())
        expected = predict_video(cfg, checkpoint, path, top_k=2, model=ColourRecognizer())
        # same pipeline, same model step (the Inferencer lays the inputs out contiguously: sums in another order)
        assert [label for label, _ in prediction.pairs()] == [label for label, _ in expected]
        assert [s for _, s in prediction.pairs()] == pytest.approx([s for _, s in expected], abs=1e-6)
    # A config given explicitly (with an override) wins over the stored one.
    relabelled = Inferencer.from_checkpoint(
        checkpoint, config=None, overrides=["data.test.pipeline.3.crop_size=16"], classes=["r", "g", "b"]
    )
    assert relabelled.pipeline_steps[3]["crop_size"] == 16
    assert relabelled.predict_video(videos["blue"]).label == "b"


def test_frames_lists_and_windows_give_what_the_file_gives(videos: dict[str, Path]) -> None:
    inferencer = make_inferencer()
    with av.open(str(videos["green"])) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    from_file = inferencer.predict(videos["green"])
    from_frames = inferencer.predict(frames, top_k=3)
    assert from_frames.source == "frames" and from_frames.label == "green"
    np.testing.assert_allclose(from_frames.probs, from_file.probs, atol=1e-6)  # the same frames sampled
    assert inferencer.predict(torch.from_numpy(frames)).label == "green"
    listed = inferencer.predict([videos["red"], videos["blue"]])
    assert [p.label for p in listed] == ["red", "blue"]
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
        inferencer.predict_frames(frames[..., :2])
    with pytest.raises(TypeError, match="cannot predict on a int"):
        inferencer.predict(3)


def test_many_files_keep_their_order_batch_across_videos_and_skip_unreadable_ones(
    tmp_path: Path, videos: dict[str, Path]
) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    empty = tmp_path / "empty.mp4"
    empty.touch()
    paths = [videos["red"], corrupt, videos["green"], tmp_path / "missing.mp4", empty, videos["blue"]]
    inferencer = make_inferencer()
    batched = list(inferencer.predict_files(paths, workers=1, batch_size=3))
    assert [type(r).__name__ for r in batched] == [
        "Prediction", "Skipped", "Prediction", "Skipped", "Skipped", "Prediction",
    ]  # fmt: skip
    assert [r.label for r in batched if isinstance(r, Prediction)] == ["red", "green", "blue"]
    skips = {Path(r.source).name: r for r in batched if isinstance(r, Skipped)}
    assert skips["missing.mp4"].cause == "missing" and "missing.mp4" in skips["missing.mp4"].reason
    assert skips["empty.mp4"].cause == "empty"
    assert skips["corrupt.mp4"].cause == "undecodable" and "corrupt.mp4" in skips["corrupt.mp4"].reason
    one_by_one = list(
        inferencer.predict_files(paths, workers=0, batch_size=1, ids=[f"v{i}" for i in range(6)])
    )
    assert [r.source for r in one_by_one] == [f"v{i}" for i in range(6)]
    for a, b in zip(batched, one_by_one, strict=True):
        if isinstance(a, Prediction):
            np.testing.assert_allclose(a.probs, b.probs, atol=1e-6)  # batching changes nothing
    with pytest.raises(MediaError, match="missing.mp4"):
        inferencer.predict([videos["red"], tmp_path / "missing.mp4"])


def test_features_are_the_embedding_the_classifier_sees(videos: dict[str, Path]) -> None:
    inferencer = make_inferencer()
    prediction = inferencer.predict_video(videos["red"], features=True)
    assert prediction.features is not None and prediction.features.shape == (3,)
    # The colour model's embedding is the clip's mean colour (normalised to [0, 1]): red dominates.
    assert prediction.features[0] > 0.8 > 0.2 > max(prediction.features[1:])
    logits = inferencer.model.head(torch.from_numpy(prediction.features)[None])
    np.testing.assert_allclose(logits.softmax(-1)[0].detach().numpy(), prediction.probs, atol=1e-5)
    assert inferencer.predict_video(videos["red"]).features is None
    row = prediction.as_dict()
    assert row["top_k"][0] == ["red", pytest.approx(prediction.score)] and len(row["features"]) == 3


def test_views_options_and_bad_settings_are_checked() -> None:
    inferencer = make_inferencer(views="2x1", top_k=1, batch_size=7)
    assert inferencer.pipeline_steps[0]["num_clips"] == 2 and inferencer.batch_size == 7
    assert make_inferencer().with_views("3x1").pipeline_steps[0]["num_clips"] == 3
    with pytest.raises(ConfigError, match="2 class names given but the model predicts 3"):
        Inferencer(ColourRecognizer(), ExperimentConfig.from_dict(config_dict()), classes=["a", "b"])
    with pytest.raises(ConfigError, match="amp = 'fp8'"):
        make_inferencer(amp="fp8")
    with pytest.raises(ConfigError, match="no data.test.pipeline"):
        Inferencer(
            ColourRecognizer(), ExperimentConfig.from_dict({**config_dict(), "data": {"dataset": "x"}})
        )
    assert ClassScore("red", 0, 0.5).label == "red"


def test_a_name_that_is_neither_a_file_nor_published_weights_is_refused(colour_plugin: Path) -> None:
    with pytest.raises(ConfigError, match="neither a checkpoint file nor a published checkpoint"):
        Inferencer.load("no_such_weights_v1")


def test_published_weights_build_the_preset_that_reproduces_them(
    tmp_path: Path, make_plugin, monkeypatch: pytest.MonkeyPatch, videos: dict[str, Path]
) -> None:
    import textwrap

    from action_core.plugins import host as plugin_host

    # A "published" file served from a file:// URL into a private torch hub cache.
    weights_file = tmp_path / "colour_weights-0123abcd.pth"
    torch.save({"state_dict": ColourRecognizer(scale=30.0).state_dict()}, weights_file)
    hashed = __import__("hashlib").sha256(weights_file.read_bytes()).hexdigest()
    named = tmp_path / f"colour_weights-{hashed[:8]}.pth"
    weights_file.rename(named)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "hub"))
    monkeypatch.setattr(plugin_host, "_HOST", None)
    make_plugin(
        "pubcolour",
        textwrap.dedent(
            f"""
            from action_core import hookimpl
            from action_core.api import WeightsInfo
            ACTION_PLUGIN_API = "1.0"
            PRESET = {config_dict()!r}
            WEIGHTS = {{"colour_v1": WeightsInfo(
                name="colour_v1", url={named.as_uri()!r}, source="tests", converter="",
                meta={{"classes": ["r", "g", "b"]}})}}

            @hookimpl
            def action_register_models(register):
                register("colour3d", "colourparts:ColourRecognizer", summary="colour", weights="fake_pubcolour.plugin:WEIGHTS")

            @hookimpl
            def action_register_presets(register):
                register("colour_preset", "fake_pubcolour.plugin:PRESET", summary="colour", weights="colour_v1")
            """
        ),
    )
    inferencer = Inferencer.load("colour_v1")
    assert inferencer.source == "colour_v1" and inferencer.classes == ["r", "g", "b"]
    assert (
        float(inferencer.model.head.weight[0, 0].detach()) == 30.0
    )  # the published weights, not a fresh model
    assert inferencer.predict(videos["green"]).label == "g"


def test_the_model_gets_inputs_in_its_own_memory_format_and_the_same_answers(
    videos: dict[str, Path],
) -> None:
    seen: list[torch.Tensor] = []

    def record(_module: torch.nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        seen.append(args[0])

    paths = list(videos.values())
    answers = {}
    for setting in (False, True):
        inferencer = make_inferencer(amp="none", channels_last=setting, fold_bn=False)
        assert inferencer.channels_last is setting
        hook = inferencer.model.backbone.register_forward_pre_hook(record)
        seen.clear()
        answers[setting] = [p.probs for p in inferencer.predict_files(paths, workers=0, batch_size=2)]
        hook.remove()
        assert len(seen) == 2  # two forward passes: 2 + 1 videos
        layout = torch.channels_last_3d if setting else torch.contiguous_format
        # Decoded frames are channels-innermost; the default layout gets them made contiguous.
        assert all(x.ndim == 5 and x.is_contiguous(memory_format=layout) for x in seen)
    np.testing.assert_allclose(np.stack(answers[True]), np.stack(answers[False]), atol=1e-6)
    with pytest.raises(ConfigError, match="channels_last = 'yes'"):
        make_inferencer(channels_last="yes")


@pytest.mark.parametrize(("views", "clips"), [("1x1", 4), ("2x3", 8)])
def test_views_keep_a_2d_models_trained_segments_in_every_clip(views: str, clips: int) -> None:
    # A 2D recipe trained on 4 segments of one frame (TSM's shift needs 4 frames per clip) whose test
    # pipeline samples 8: a view holds the trained 4, as `action-run test --views` makes it.
    segments = [{"type": "SampleFrames", "clip_len": 1, "frame_interval": 1, "num_clips": 4}]
    test = [{**segments[0], "num_clips": 8, "test_mode": True}, *PIPELINE[1:]]
    cfg = ExperimentConfig.from_dict(
        config_dict(train={"split": "train", "pipeline": segments}, test={"split": "test", "pipeline": test})
    )
    inferencer = Inferencer(ColourRecognizer(), cfg, classes=CLASSES, views=views)
    assert inferencer.pipeline_steps[0]["num_clips"] == clips
    assert make_inferencer().with_views(views).pipeline_steps[0]["num_clips"] == int(views[0])  # 3D: clips
