"""``--views 10x3`` and ``--views 1x1`` on every first-party recognizer family (issue 18).

One preset of every registered recognizer model type, tested two ways:

- at full size on the ``meta`` device: the test pipeline that ``action-run test --views`` builds
  (:func:`~action_core.engine.inference.views_pipeline`) runs on a real tiny video and its output goes through
  the preset's real model and step, every layer running its shape logic (TSM's temporal shift refuses a clip
  count other than its segment count). Each view must be the input one view of the validation pipeline
  gives, and the step must return one score row per view;
- with real arithmetic through ``action-run test CHECKPOINT --views ... --out``: the preset's parts and
  sampling with every spatial size scaled to 1/7 (a 224 crop becomes 32) and random weights. The
  probabilities it writes for two videos in one batch must equal the average of each view run through the
  model on its own, so no clip, crop or sample of a batch may see another (a view-folding mix-up fails it).

TSM-R50's scores at full size are checked against MMAction2 in
``plugins/action-tsm/tests/test_views_mmaction_parity.py``.
"""

from __future__ import annotations

import json

import pytest
import torch

import action_core as ac
from action_core.api import ExperimentConfig, load_source
from action_core.cli.components import expanded_model_table
from action_core.cli.main import main
from action_core.data.datasets import VideoDataset
from action_core.data.records import VideoRecord
from action_core.datasets.synth import write_video
from action_core.engine.builders import build_model_from_config
from action_core.engine.checkpoint import run_meta, save_checkpoint
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


# -- real arithmetic: `action-run test CHECKPOINT --views 10x3 / 1x1` on every family --------------------------

NUM_CLASSES = 3
TOLERANCE = 1e-5  # measured within 1.5e-6 (batch norms folded, views batched against one at a time)
SMALL = 32 / 224  # every spatial size of a preset's pipelines, scaled (224 -> 32, 256 -> 37)
SPATIAL_ARGS = ("img_size", "spatial_size")  # transformers built for one input size take the new one
# C3D's fc6 reads the flattened pool5 output, which its input size fixes: 512 x 1 x 1 x 1 for 16x16x16 clips
PART_ARGS = {"c3d": {"out_dim": 512}}


def _scaled(value, factor: float):
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if value <= 0 else max(round(value * factor), 1)
    if isinstance(value, list):
        return [_scaled(v, factor) for v in value]
    return value


def _tiny_pipeline(pipeline: list[dict]) -> list[dict]:
    keys = ("scale", "crop_size", "input_size")
    return [{k: _scaled(v, SMALL) if k in keys else v for k, v in step.items()} for step in pipeline]


def _tiny_config(preset: str, root, *, multi_label: bool) -> dict:
    """``preset`` on inputs 1/7 of its size, with 3 classes and a list of tiny videos as every split: the
    same parts, pipelines and sampling (frames per view are what the views are about), less arithmetic."""
    data = load_source(preset)
    model = without_downloads(expanded_model_table(without_downloads(data["model"])))
    model["num_classes"] = NUM_CLASSES
    splits = [s for s in ("train", "val", "test") if data["data"].get(s, {}).get("pipeline")]
    reference = data["data"]["val" if "val" in splits else "test"]["pipeline"]
    crop = next(_scaled(s["crop_size"], SMALL) for s in reference if "crop_size" in s)
    for name in ("backbone", "neck", "head"):
        part = model.get(name)
        if not isinstance(part, dict):
            continue
        for key in ("num_classes", "aux_classes"):
            if key in part:
                part[key] = NUM_CLASSES
        for key in SPATIAL_ARGS:
            if key in part:
                part[key] = crop
        part.update(PART_ARGS.get(part["type"], {}))
    data["model"] = model
    data["data"].update(dataset="video_list", root=str(root), batch_size=2, workers=0)
    for split in splits:
        table = data["data"][split]
        table["args"] = {"ann_file": "videos.txt", "multi_label": multi_label, "num_classes": NUM_CLASSES}
        table["pipeline"] = _tiny_pipeline(table["pipeline"])
    data.setdefault("train", {}).update(amp="none", compile=False)  # fp32 on every CPU kind, as the reference
    return data


def _head_layers(model: torch.nn.Module) -> list[torch.nn.Linear]:
    return [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.out_features == NUM_CLASSES]


def _views_one_at_a_time(step, cfg: ExperimentConfig, views: str, video: str) -> torch.Tensor:
    """The scores of each view of ``video`` computed alone, (views, classes): what a correct multi-view
    batch must give, whatever a model folds clips, crops and samples into."""
    item = _item(cfg, views_pipeline(cfg, views), video)
    rows = []
    for view in range(item["inputs"].shape[0]):
        batch = {"inputs": item["inputs"][None, view : view + 1]}
        if "norm" in item:
            batch["norm"] = item["norm"][None]
        batch = prepare_batch(batch, torch.device("cpu"), model=stepped_model(step))
        with torch.no_grad():
            rows.append(step(batch, "predict").reshape(-1, NUM_CLASSES))
    return torch.cat(rows).double()


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Two test workers on two cores: a second thread each would only make them wait on each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("views_real")
    write_video(root / "a.mp4", num_frames=40, width=96, height=72, seed=1)
    write_video(root / "b.mp4", num_frames=56, width=80, height=96, seed=2)
    return root


@pytest.mark.parametrize("preset", PRESETS)
def test_views_10x3_and_1x1_through_action_run_test_equal_each_view_alone(
    preset, tiny_videos, tmp_path, capsys
):
    """`action-run test --views` on a checkpoint of every family (random weights, inputs scaled down): the
    probabilities it writes equal the average, as ``[test] average`` says, of each view run through the
    model on its own. A model that let clips, crops or samples of one batch see each other (TSM's shift
    over 30 clips, a fusion across the batch) would differ."""
    multi_label = bool(load_source(preset)["model"].get("args", {}).get("multi_label", False))
    labels = ["0 2", "1"] if multi_label else ["0", "1"]
    (tiny_videos / "videos.txt").write_text(f"a.mp4 {labels[0]}\nb.mp4 {labels[1]}\n")
    cfg = ExperimentConfig.from_dict(_tiny_config(preset, tiny_videos, multi_label=multi_label))
    torch.manual_seed(0)
    model = build_model_from_config(cfg).eval()
    step = as_step_module(model).eval()
    # random heads score every view alike; scaled so that logits spread by about 3, views differ visibly
    alone = {
        (v, n): _views_one_at_a_time(step, cfg, v, str(tiny_videos / n))
        for v in ("10x3", "1x1")
        for n in ("a.mp4", "b.mp4")
    }
    spread = float(torch.cat(list(alone.values())).std())
    gain = 3.0 / max(spread, 1e-12)
    with torch.no_grad():
        for layer in _head_layers(model):
            layer.weight.mul_(gain)
            if layer.bias is not None:
                layer.bias.mul_(gain)
    checkpoint = tmp_path / "tiny.pth"
    save_checkpoint(
        {
            "model": model.state_dict(),
            "meta": run_meta(cfg, classes=None, multi_label=multi_label, world_size=1),
        },
        checkpoint,
    )
    for views, count in (("10x3", 30), ("1x1", 1)):
        out = tmp_path / f"{views}.json"
        code = main(
            ["test", "--checkpoint", str(checkpoint), "--views", views, "--out", str(out), "--device", "cpu"]
        )
        assert code == 0, (views, capsys.readouterr().err[-3000:])
        written = json.loads(out.read_text())
        assert written["views"] == views
        for sample in written["samples"]:
            name = sample["path"].rsplit("/", 1)[-1]
            scores = alone[(views, name)] * gain
            assert scores.shape == (count, NUM_CLASSES), (views, tuple(scores.shape))
            if cfg.test.average == "prob" and not multi_label:
                expected = scores.softmax(1).mean(0)
            else:
                averaged = scores.mean(0)
                expected = averaged.sigmoid() if multi_label else averaged.softmax(0)
            got = torch.tensor(sample["probs"], dtype=torch.float64)
            assert torch.allclose(got, expected, atol=TOLERANCE), (
                views,
                name,
                got.tolist(),
                expected.tolist(),
            )
        if views == "10x3":  # the views differ, so a mixed-up batch could not pass by chance
            per_view = (alone[(views, "a.mp4")] * gain).softmax(1)
            assert float((per_view - per_view.mean(0)).abs().max()) > 10 * TOLERANCE
