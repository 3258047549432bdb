"""`action-run test --views 10x3` on TSM-R50 gives MMAction2 1.2.0's multi-view score (issue 18's bar).

The fixture (``tools/make_views_fixture.py``, run in a side environment with MMAction2) holds a small video,
the frames MMAction2's test pipeline sampled for 10 clips x 3 crops on an 8-segment TSM (``SampleFrames``
with ``num_clips = 80``, ``Resize(-1, 56)``, ``ThreeCrop(56)``) and the probabilities its TSM-R50 gave
(the mean of the 30 views' softmax, ``average_clips='prob'``) with deterministic stand-in weights. Here the
preset's own test pipeline (``TenCrop`` after ``Resize(-1, 256)``, crop 56 for a small input) goes through
``--views 10x3`` and the engine's ``test`` on that video, with the same weights converted from MMAction2's
names.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tsm_fixture_weights import fixture_state_dict

from action_core.api import (
    ExperimentConfig,
    build,
    build_model_from_config,
    evaluate_checkpoint,
    load_source,
    load_weights,
    save_checkpoint,
    views_pipeline,
    without_downloads,
)

FIXTURES = Path(__file__).parent / "fixtures"
PRESET = "tsm_r50_1x1x8_50e_kinetics400_rgb"


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads((FIXTURES / "views_tsm_r50.json").read_text())


def _config(reference: dict, lists: Path) -> ExperimentConfig:
    data = load_source(PRESET)
    data["model"] = without_downloads({**data["model"], "num_classes": reference["num_classes"]})
    for split in ("val", "test"):
        crop = next(s for s in data["data"][split]["pipeline"] if "crop_size" in s)
        crop["crop_size"] = 56
    data["data"].update(dataset="video_folder", root=str(FIXTURES), workers=0, batch_size=1)
    for split in ("train", "val", "test"):
        data["data"][split]["args"] = {"lists": str(lists)}
    return ExperimentConfig.from_dict(data)


def test_the_views_pipeline_is_mmaction2s(reference):
    cfg = _config(reference, Path("unused"))
    steps = views_pipeline(cfg, "10x3")
    assert steps[0]["num_clips"] == 80 and steps[0]["num_views"] == 10
    assert steps[2:4] == [{"type": "Resize", "scale": [-1, 56]}, {"type": "ThreeCrop", "crop_size": 56}]
    sampled = build("transform", "SampleFrames", clip_len=1, num_clips=80, test_mode=True, num_views=10)(
        {"total_frames": 24, "start_index": 0}
    )
    np.testing.assert_array_equal(sampled["frame_inds"], reference["frame_inds"])


@pytest.mark.slow
def test_tsm_r50_10x3_score_equals_mmaction2(reference, tmp_path):
    torch.set_num_threads(2)
    lists = tmp_path / "lists"
    lists.mkdir()
    for split in ("train", "val", "test"):
        (lists / f"{split}.txt").write_text(f"{reference['video']} 0\n")
    (lists / "classes.txt").write_text("".join(f"class_{k}\n" for k in range(reference["num_classes"])))
    cfg = _config(reference, lists)
    assert cfg.test.average == "prob"  # MMAction2's TSM recipes average the views' softmax
    model = build_model_from_config(cfg)
    mm_state = fixture_state_dict(_mmaction_shapes(model))
    report = load_weights(model, {"state_dict": mm_state}, converter="tsm_from_mmaction")
    assert report.ok, report.summary()
    checkpoint = save_checkpoint({"model": model.state_dict()}, tmp_path / "tsm.pth")

    out = tmp_path / "results.json"
    evaluate_checkpoint(cfg, checkpoint, views="10x3", out=out, device="cpu")
    (sample,) = json.loads(out.read_text())["samples"]
    np.testing.assert_allclose(sample["probs"], reference["probs"], rtol=0, atol=1e-4)


def _mmaction_shapes(model: torch.nn.Module) -> dict[str, torch.Size]:
    from action_tsm import convert

    return {k: v.shape for k, v in convert.to_mmaction(model).items()}
