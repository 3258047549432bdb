"""``--views 10x3`` and ``--views 1x1`` on every first-party recognizer family (issue 18).

For one preset of every registered recognizer model type, the test pipeline that ``action-run test --views``
builds (:func:`~action_core.engine.inference.views_pipeline`) runs on a real tiny video, and its output goes
through the preset's real model and step (``predict``) on the ``meta`` device: every layer runs its shape
logic (TSM's temporal shift refuses a clip count other than its segment count) without the arithmetic of
30 full-size views. Each view must be the input one view of the validation pipeline gives (what the model was
trained on), and the step must return one score row per view. TSM's scores themselves are checked against
MMAction2 in ``plugins/action-tsm/tests/test_views_mmaction_parity.py``.
"""

from __future__ import annotations

import pytest
import torch

import action_core as ac
from action_core.api import ExperimentConfig, load_source
from action_core.data.datasets import VideoDataset
from action_core.data.records import VideoRecord
from action_core.datasets.synth import write_video
from action_core.engine.builders import build_model_from_config
from action_core.engine.inference import views_pipeline
from action_core.engine.step_module import as_step_module, prepare_batch, stepped_model
from action_core.models.compose import without_downloads

ac.get_host().load_all()


def _one_preset_per_model_type() -> list[str]:
    chosen: dict[str, str] = {}
    for entry in ac.get_registry().entries("preset"):
        if entry.spec.task != "recognition":
            continue
        chosen.setdefault(load_source(entry.name)["model"]["type"], entry.name)
    return sorted(chosen.values())


PRESETS = _one_preset_per_model_type()


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> str:
    return write_video(tmp_path_factory.mktemp("views") / "clip.mp4", num_frames=40, width=96, height=72)


def _item(cfg: ExperimentConfig, pipeline: list, video: str) -> dict:
    return VideoDataset([VideoRecord(video)], pipeline, test_mode=True)[0]


def test_every_family_is_covered():
    types = {load_source(p)["model"]["type"] for p in PRESETS}
    assert {"tsm_r50", "tsn_r50", "i3d_r50", "slowfast_r50", "x3d_s", "swin3d_t"} <= types, types


@pytest.mark.parametrize("preset", PRESETS)
def test_views_10x3_and_1x1_run_through_the_model(preset, video):
    data = load_source(preset)
    data["model"] = without_downloads(data["model"])
    cfg = ExperimentConfig.from_dict(data)
    with torch.device("meta"):
        model = build_model_from_config(cfg)
    step = as_step_module(model).eval()
    reference = cfg.data.val.pipeline or cfg.data.test.pipeline  # a test-only preset has no val
    trained = _item(cfg, reference, video)["inputs"].shape[1:]
    for views, count in (("10x3", 30), ("1x1", 1)):
        item = _item(cfg, views_pipeline(cfg, views), video)
        inputs = item["inputs"]
        assert inputs.shape[0] == count, (views, tuple(inputs.shape))
        # the same frames per view as validation (a 2D model's segments); 3-crop views span the short side,
        # which is the input size unless the preset's own test pipeline crops larger (MMAction2's ThreeCrop 256)
        assert inputs.shape[1:-2] == trained[:-2], (views, tuple(inputs.shape), tuple(trained))
        if views == "1x1":
            assert inputs.shape[-2:] == trained[-2:]
        batch = {"inputs": inputs[None], **({"norm": item["norm"][None]} if "norm" in item else {})}
        batch = prepare_batch(batch, torch.device("cpu"), model=stepped_model(step))
        batch = {k: v.to("meta") if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
        with torch.no_grad():
            scores = step(batch, "predict")
        assert tuple(scores.shape) == (1, count, cfg.model.num_classes), (views, tuple(scores.shape))
