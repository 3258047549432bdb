"""BMN against MMAction2 1.2.0 outputs saved by tools/make_mmaction2_fixtures.py (MMAction2 not needed here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from action_bmn.convert import convert_mmaction2, load_bmn_weights
from action_bmn.models import BMN, bmn, bmn_loss, boundary_matching_mask

FIXTURE = Path(__file__).parent / "fixtures" / "mmaction2_bmn_tiny.pt"


@pytest.fixture(scope="module")
def ref():
    return torch.load(FIXTURE, weights_only=False)


@pytest.fixture(scope="module")
def model(ref):
    m = bmn(**{k: v for k, v in ref["config"].items()}).eval()
    load_bmn_weights(m, ref["state_dict"])
    return m


def test_full_model_parameter_count_equals_mmaction2(ref):
    m = bmn()
    assert sum(p.numel() for p in m.parameters()) == ref["full_params"] == 36_978_564
    assert sum(p.numel() for p in m.parameters() if p.requires_grad) == ref["full_trainable_params"]
    # bm_mask is recomputed from the temporal scale, not stored (MMAction2 stores it; the converter drops it)
    assert list(m.state_dict()) == [k for k in ref["full_state_keys"] if k != "bm_mask"]


def test_sampling_mask_equals_mmaction2(ref):
    cfg = ref["config"]
    mask = boundary_matching_mask(
        cfg["temporal_dim"], cfg["boundary_ratio"], cfg["num_samples"], cfg["num_samples_per_bin"]
    )
    expected = ref["state_dict"]["sample_mask"]
    assert torch.equal(mask.reshape(cfg["temporal_dim"], -1), expected)


def test_forward_matches(ref, model):
    with torch.no_grad():
        cmap, start, end = model(ref["inputs"])
    torch.testing.assert_close(cmap, ref["confidence_map"], atol=1e-5, rtol=0)
    torch.testing.assert_close(start, ref["start"], atol=1e-5, rtol=0)
    torch.testing.assert_close(end, ref["end"], atol=1e-5, rtol=0)


def test_training_targets_match(ref, model):
    iou, start, end = model.generate_labels(ref["gt_bbox"])
    torch.testing.assert_close(iou, ref["gt_iou_map"], atol=1e-6, rtol=0)
    torch.testing.assert_close(start, ref["gt_start"], atol=1e-6, rtol=0)
    torch.testing.assert_close(end, ref["gt_end"], atol=1e-6, rtol=0)


def test_losses_match_with_same_seed(ref, model):
    torch.manual_seed(ref["loss_seed"])
    out = bmn_loss(
        ref["confidence_map"],
        ref["start"],
        ref["end"],
        ref["gt_iou_map"],
        ref["gt_start"],
        ref["gt_end"],
        model.bm_mask,
    )
    got = torch.stack([out["loss"], out["tem_loss"], out["pem_reg_loss"], out["pem_cls_loss"]])
    torch.testing.assert_close(got, ref["losses"], atol=1e-5, rtol=1e-5)


def test_training_step_gives_the_losses_with_same_seed(ref, model):
    torch.manual_seed(ref["loss_seed"])
    with torch.no_grad():
        out = model.training_step({"inputs": ref["inputs"], "gt_bbox": ref["gt_bbox"]})
    got = torch.stack([out["loss"], out["tem_loss"], out["pem_reg_loss"], out["pem_cls_loss"]])
    torch.testing.assert_close(got, ref["losses"], atol=1e-4, rtol=1e-4)


def test_predicted_proposals_match(ref, model):
    infos = ref["video_infos"]
    batch = {
        "inputs": ref["inputs"],
        "video_name": [i["video_name"] for i in infos],
        "duration_second": [i["duration_second"] for i in infos],
        "duration_frame": [i["duration_frame"] for i in infos],
    }
    with torch.no_grad():
        out = model.predict_step(batch)
    for (name, props), info, expected in zip(out, infos, ref["proposals"], strict=True):
        assert name == info["video_name"]
        got = np.array([[*p["segment"], p["score"]] for p in props])
        assert got.shape == tuple(expected.shape)
        np.testing.assert_allclose(got, expected.numpy(), atol=1e-4)


def test_converter_accepts_wrapped_and_old_checkpoints(ref, tmp_path):
    cfg = ref["config"]
    old = {f"module.{k}": v for k, v in ref["state_dict"].items() if k != "bm_mask"}
    path = tmp_path / "ckpt.pth"
    torch.save({"meta": {}, "state_dict": old}, path)
    m = BMN(**cfg)
    report = load_bmn_weights(m, path)
    assert report.ok
    torch.testing.assert_close(m.x_2d_p[0].weight, ref["state_dict"]["x_2d_p.0.weight"])
    converted, unconverted = convert_mmaction2(ref["state_dict"])
    assert set(converted) == set(ref["state_dict"]) - {"bm_mask"} and unconverted == ()


def test_converter_rejects_other_architecture(ref):
    cfg = dict(ref["config"], hidden_dim_2d=12)
    with pytest.raises(ValueError, match="shape mismatches"):
        load_bmn_weights(BMN(**cfg), ref["state_dict"])
