"""`docs/own-videos.md`, followed literally (issue 18's bar): its three commands, run as written on a
generated 3-class folder, fine-tune the demo TSM from its checkpoint and reach >= 90 % top-1 on the
held-out split; `test` writes the report and `predict` names a class of the folder.

The demo checkpoint the guide starts from is made first, smaller than `action-run demo` makes it (the
configuration of `test_main_job.py`: fewer, smaller videos, fewer epochs) so that the test fits in CI; the
guide's own commands are not changed.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from action_core.cli.main import main

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "own-videos.md"
# the folder's classes, each rendered as one of the synthetic motion classes (the demo knows 4 of them)
CLASSES = {"clap": "move_left", "jump": "move_right", "wave": "move_up"}
VIDEOS_PER_CLASS = 30
SMALL_DEMO = [
    *(
        f"data.{split}.args.{key}"
        for split in ("train", "val", "test")
        for key in ("videos_per_class=60", "size=32")
    ),
    "data.train.pipeline.2.size=28",
    "data.val.pipeline.2.crop_size=28",
    "data.test.pipeline.2.crop_size=28",
    "data.batch_size=8",
    "schedule.epochs=10",
]


def guide_commands() -> list[list[str]]:
    """The `action-run` lines of the guide's console blocks, in order."""
    blocks = re.findall(r"```console\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)
    return [shlex.split(line) for block in blocks for line in block.splitlines() if line.strip()]


def _generate_folder(root: Path) -> None:
    from action_synthetic.generate import MotionDatasetConfig, encode_video, render_video_frames

    config = MotionDatasetConfig(classes=tuple(CLASSES.values()), videos_per_class=VIDEOS_PER_CLASS, seed=11)
    for name, motion in CLASSES.items():
        (root / name).mkdir(parents=True)
        for index in range(VIDEOS_PER_CLASS):
            frames = render_video_frames(config, motion, index)
            (root / name / f"{name}_{index:04d}.mp4").write_bytes(encode_video(frames, fps=config.fps))


def test_the_guide_has_three_commands():
    commands = guide_commands()
    assert [c[:2] for c in commands] == [
        ["action-run", "train"],
        ["action-run", "test"],
        ["action-run", "predict"],
    ]


@pytest.mark.slow
def test_the_guide_fine_tunes_the_demo_tsm_on_a_folder(tmp_path, monkeypatch, capsys):
    pytest.importorskip("action_tsm")
    pytest.importorskip("action_synthetic")
    monkeypatch.chdir(tmp_path)
    _generate_folder(tmp_path / "my_videos")
    demo = ["train", "tsm_r18_synthetic", "--work-dir", "work_dirs/demo/tsm_r18_synthetic"]
    demo += ["--data-root", str(tmp_path / "synthetic")]
    for override in SMALL_DEMO:
        demo += ["--set", override]
    assert main(demo) == 0
    capsys.readouterr()

    outputs = []
    for command in guide_commands():
        assert command[0] == "action-run"
        assert main(command[1:]) == 0, command
        outputs.append(capsys.readouterr().out)

    report = json.loads((tmp_path / "work_dirs" / "my_tsm" / "test.json").read_text())
    assert report["classes"] == ["clap", "jump", "wave"]
    assert report["metrics"]["top1"] >= 0.9, report["metrics"]
    assert report["metrics"]["num_samples"] == len(report["samples"]) >= 9
    for sample in report["samples"]:
        assert Path(sample["path"]).parent.name == sample["label_name"]
    lists = tmp_path / "work_dirs" / "my_tsm" / "lists"
    assert (lists / "classes.txt").read_text() == "clap\njump\nwave\n"
    assert len((lists / "test.txt").read_text().splitlines()) == len(report["samples"])
    predicted = outputs[2].split()
    assert predicted and predicted[0] in CLASSES, outputs[2]


def test_a_model_name_takes_the_recipe_of_its_kinetics_preset_or_a_generic_one(tmp_path, caplog):
    from action_core.engine.commands import training_config

    for name in ("a", "b", "c"):
        (tmp_path / "v" / name).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "v" / name / f"{i}.mp4").write_bytes(b"")  # the split only needs the names
    cfg, prepared = training_config("tsm_r50", videos=tmp_path / "v", work_dir=tmp_path / "w")
    assert "recipe of preset 'tsm_r50_1x1x8_50e_kinetics400_rgb'" in caplog.text
    assert (cfg.model.num_classes, cfg.data.dataset, prepared.classes) == (3, "video_folder", ["a", "b", "c"])
    assert cfg.data.train.pipeline[0]["num_clips"] == 8
    cfg, _ = training_config("tsm_r18", videos=tmp_path / "v", work_dir=tmp_path / "w")
    assert "generic recipe" in caplog.text and cfg.model.args["pretrained"] is True
