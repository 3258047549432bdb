"""The main job on a smaller configuration: TSM learns the motion-only classes, TSN stays near chance.

`python3 dev.py demo` runs the full-size version (README); this is the same code path — `action-run demo`
with its presets — on fewer, smaller videos so that it fits in CI.
"""

from __future__ import annotations

import json

import pytest

from action_core.cli.main import main

SMALL = [
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


@pytest.mark.slow
def test_tsm_learns_motion_while_tsn_stays_near_chance(tmp_path, capsys):
    pytest.importorskip("action_tsm")
    pytest.importorskip("action_synthetic")
    args = ["demo", "--work-dir", str(tmp_path / "demo")]
    for override in SMALL:
        args += ["--set", override]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "tsm_r18_synthetic" in out and "tsn_r18_synthetic" in out
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    top1 = {run["model"]: run["top1"] for run in summary["runs"]}
    # 4 classes: chance is 0.25. TSN averages frames, whose distribution does not depend on the class.
    # Measured 0.90 on one CPU kind and 0.79 on another (AVX-512 without BF16: other fp32 kernels, another
    # trajectory over 24 test clips); the old stop-13 commit gives the same 0.79 there.
    assert top1["tsm_r18"] >= 0.7, top1
    assert top1["tsn_r18"] <= 0.45, top1
    assert top1["tsm_r18"] - top1["tsn_r18"] >= 0.4, top1
    video = summary["predict_demo"]
    assert video and (tmp_path / "demo" / "predict_demo.mp4").stat().st_size > 0
    for preset in ("tsm_r18_synthetic", "tsn_r18_synthetic"):
        run_dir = tmp_path / "demo" / preset
        for name in ("curves.png", "confusion_matrix.png", "config.toml", "best.pth"):
            assert (run_dir / name).is_file(), f"{preset}: {name} missing"
