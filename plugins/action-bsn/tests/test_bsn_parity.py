"""BSN (TEM, PGM, PEM) against MMAction2 1.2.0 outputs saved by tools/make_mmaction2_fixtures.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from action_activitynet.annotations import load_annotations
from action_bsn.convert import convert_mmaction2_pem, convert_mmaction2_tem, load_bsn_weights
from action_bsn.models import bsn_pem, bsn_tem, pem_loss
from action_bsn.pgm import PROPOSAL_HEADER, bsp_features, candidate_proposals, read_csv_table, write_csv_table

FIXTURE = Path(__file__).parent / "fixtures" / "mmaction2_bsn_tiny.pt"


@pytest.fixture(scope="module")
def ref():
    return torch.load(FIXTURE, weights_only=False)


@pytest.fixture(scope="module")
def tem(ref):
    m = bsn_tem(**{k: v for k, v in ref["tem_config"].items()}).eval()
    load_bsn_weights(m, ref["tem_state_dict"], module="tem")
    return m


@pytest.fixture(scope="module")
def pem(ref):
    cfg = {k: v for k, v in ref["pem_config"].items()}
    m = bsn_pem(**cfg).eval()
    load_bsn_weights(
        m, {"state_dict": {f"module.{k}": v for k, v in ref["pem_state_dict"].items()}}, module="pem"
    )
    return m


@pytest.fixture(scope="module")
def videos(ref, tmp_path_factory):
    import json

    path = tmp_path_factory.mktemp("anno") / "anno.json"
    path.write_text(json.dumps({i["video_name"]: i for i in ref["video_infos"]}))
    return load_annotations(path)


def test_parameter_counts_equal_mmaction2(ref):
    t, p = bsn_tem(), bsn_pem()
    assert sum(x.numel() for x in t.parameters()) == ref["full_tem_params"] == 1_403_395
    assert sum(x.numel() for x in p.parameters()) == ref["full_pem_params"] == 8_705
    assert list(t.state_dict()) == ref["full_tem_keys"] and list(p.state_dict()) == ref["full_pem_keys"]


def test_tem_forward_targets_losses(ref, tem):
    with torch.no_grad():
        out = tem(ref["inputs"])
    torch.testing.assert_close(out, ref["tem_output"], atol=1e-5, rtol=0)
    for got, exp in zip(tem.generate_labels(ref["gt_bbox"]), ref["tem_labels"], strict=True):
        torch.testing.assert_close(got, exp, atol=1e-6, rtol=0)
    with torch.no_grad():
        losses = tem.training_step({"inputs": ref["inputs"], "gt_bbox": ref["gt_bbox"]})
    for k, v in ref["tem_losses"].items():
        torch.testing.assert_close(losses[k], v, atol=1e-5, rtol=1e-5)
    results = dict(tem.predict_step({"inputs": ref["inputs"], "video_name": ["v_a", "v_b"]}))
    for name, expected in ref["tem_results"].items():
        np.testing.assert_allclose(results[name], expected.numpy(), atol=1e-5)


def test_pgm_proposals_and_features(ref, videos, tmp_path):
    cfg = ref["pgm_config"]
    for name, tem_rows in ref["tem_results"].items():
        # MMAction2 reads the TEM result back from its CSV: float32
        path = write_csv_table(tmp_path / f"{name}.csv", tem_rows.numpy(), "action,start,end,tmin,tmax")
        tem_f32 = read_csv_table(path, header="action,start,end,tmin,tmax", video=name)
        props = candidate_proposals(tem_f32, videos[name], temporal_scale=ref["tem_config"]["temporal_dim"])
        expected = ref["pgm_proposals"][name].numpy()
        assert props.shape == expected.shape
        np.testing.assert_allclose(props, expected, atol=1e-6)
        stored = read_csv_table(
            write_csv_table(tmp_path / f"p_{name}.csv", props, PROPOSAL_HEADER),
            header=PROPOSAL_HEADER,
            video=name,
        )
        feats = bsp_features(tem_f32, stored, **cfg)
        np.testing.assert_allclose(feats, ref["bsp_features"][name].numpy(), atol=1e-5)


def test_pem_forward_loss_and_proposals(ref, pem, videos):
    for x, y in zip(ref["pem_inputs"], ref["pem_outputs"], strict=True):
        with torch.no_grad():
            torch.testing.assert_close(pem(x), y, atol=1e-6, rtol=0)
    rows = {
        n: r.numpy().astype(np.float32)[: ref["pgm_config"]["top_k"]] for n, r in ref["pgm_proposals"].items()
    }
    names = [i["video_name"] for i in ref["video_infos"]]
    batch = {
        "video_name": names,
        "inputs": ref["pem_inputs"],
        "tmin": [torch.from_numpy(rows[n][:, 0]) for n in names],
        "tmax": [torch.from_numpy(rows[n][:, 1]) for n in names],
        "tmin_score": [torch.from_numpy(rows[n][:, 2]) for n in names],
        "tmax_score": [torch.from_numpy(rows[n][:, 3]) for n in names],
        "label": [torch.from_numpy(rows[n][:, 5]) for n in names],  # the reference tIoU
        "duration_second": [videos[n].duration_second for n in names],
        "duration_frame": [videos[n].duration_frame for n in names],
    }
    with torch.no_grad():
        out = dict(pem.predict_step(batch))
        torch.manual_seed(ref["pem_loss_seed"])
        loss = pem.training_step(batch)["loss"]
    torch.testing.assert_close(loss, ref["pem_loss"], atol=1e-6, rtol=1e-5)
    for name, expected in zip(names, ref["pem_proposals"], strict=True):
        got = np.array([[*p["segment"], p["score"]] for p in out[name]])
        assert got.shape == tuple(expected.shape)
        np.testing.assert_allclose(got, expected.numpy(), atol=1e-4)


def test_pem_loss_is_the_mean_smooth_l1():
    torch.manual_seed(0)
    score, iou = torch.rand(50), torch.rand(50)
    expected = torch.nn.functional.smooth_l1_loss(score, iou)
    torch.testing.assert_close(pem_loss(score, iou), expected)


def test_converters_check_module(ref):
    converted, unconverted = convert_mmaction2_tem(ref["tem_state_dict"], prefix="tem.")
    assert set(converted) == {f"tem.{k}" for k in ref["tem_state_dict"]} and unconverted == ()
    converted, unconverted = convert_mmaction2_pem(ref["tem_state_dict"])
    assert converted == {} and set(unconverted) == set(ref["tem_state_dict"])  # a TEM file is not a PEM's
    with pytest.raises(ValueError, match="no conversion rule"):
        load_bsn_weights(bsn_pem(), ref["tem_state_dict"], module="pem")
