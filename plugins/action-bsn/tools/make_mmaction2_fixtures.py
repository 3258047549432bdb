"""Build the MMAction2 1.2.0 reference fixture for BSN (run by hand in a side venv; never by pytest).

    $SIDE/bin/python plugins/action-bsn/tools/make_mmaction2_fixtures.py

Needs mmaction2==1.2.0 (plus a stub ``mmaction.models.localizers.drn`` package defining ``class DRN``).
Writes ``tests/fixtures/mmaction2_bsn_tiny.pt``: tiny random-weight TEM and PEM (same code paths, small
widths), their inputs and outputs, TEM targets and losses, the PGM candidate proposals and BSP features
MMAction2 derives from the TEM output, PEM losses and post-processed proposals, and the full models'
parameter counts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from mmaction.models.localizers import PEM, TEM
from mmaction.models.localizers.utils import generate_bsp_feature, generate_candidate_proposals
from mmaction.structures import ActionDataSample
from mmengine.structures import InstanceData

TEM_TINY = dict(
    temporal_dim=16, boundary_ratio=0.1, tem_feat_dim=12, tem_hidden_dim=16, tem_match_threshold=0.5
)
PEM_TINY = dict(
    pem_feat_dim=32,
    pem_hidden_dim=16,
    pem_u_ratio_m=1,
    pem_u_ratio_l=2,
    pem_high_temporal_iou_threshold=0.6,
    pem_low_temporal_iou_threshold=0.2,
    soft_nms_alpha=0.75,
    soft_nms_low_threshold=0.65,
    soft_nms_high_threshold=0.9,
    post_process_top_k=100,
)
PGM = dict(
    top_k=40,
    bsp_boundary_ratio=0.2,
    num_sample_start=8,
    num_sample_end=8,
    num_sample_action=16,
    num_sample_interp=3,
)


def main() -> None:
    torch.manual_seed(0)
    tem = TEM(**TEM_TINY).eval()
    pem = PEM(**PEM_TINY).eval()
    with torch.no_grad():
        for p in [*tem.parameters(), *pem.parameters()]:
            p.copy_(torch.randn_like(p) * 0.5)
    inputs = torch.randn(2, TEM_TINY["tem_feat_dim"], TEM_TINY["temporal_dim"])
    gt_bbox = [
        torch.tensor([[0.1, 0.35], [0.5, 0.9]], dtype=torch.float64),
        torch.tensor([[0.0, 0.2], [0.6, 1.0]], dtype=torch.float64),
    ]
    infos = [
        {
            "video_name": "v_a",
            "duration_second": 37.5,
            "duration_frame": 1125,
            "feature_frame": 1120,
            "annotations": [{"segment": [3.0, 12.0], "label": "x"}, {"segment": [20.0, 33.0], "label": "y"}],
        },
        {
            "video_name": "v_b",
            "duration_second": 20.0,
            "duration_frame": 500,
            "feature_frame": 496,
            "annotations": [{"segment": [0.5, 4.0], "label": "x"}],
        },
    ]
    with torch.no_grad():
        tem_out = tem._forward(inputs)
        labels = tem.generate_labels(gt_bbox)
        samples = []
        for i, info in enumerate(infos):
            s = ActionDataSample()
            s.set_metainfo({"video_name": info["video_name"]})
            s.gt_instances = InstanceData(gt_bbox=gt_bbox[i])
            samples.append(s)
        tem_losses = tem.loss(inputs, samples)
        tem_results = tem.predict(inputs, samples)
    with tempfile.TemporaryDirectory() as tmp:
        tem_dir, prop_dir = Path(tmp) / "tem", Path(tmp) / "prop"
        tem_dir.mkdir()
        prop_dir.mkdir()
        for name, rows in tem_results:
            np.savetxt(
                tem_dir / f"{name}.csv", rows, header="action,start,end,tmin,tmax", delimiter=",", comments=""
            )
        proposals = generate_candidate_proposals([0, 1], infos, str(tem_dir), TEM_TINY["temporal_dim"], 0.5)
        header = "tmin,tmax,tmin_score,tmax_score,score,match_iou,match_ioa"
        for name, rows in proposals.items():
            np.savetxt(prop_dir / f"{name}.csv", rows, header=header, delimiter=",", comments="")
        features = generate_bsp_feature([0, 1], infos, str(tem_dir), str(prop_dir), **PGM)
        stored = {
            n: np.loadtxt(prop_dir / f"{n}.csv", dtype=np.float32, delimiter=",", skiprows=1)
            for n in proposals
        }
    pem_inputs, pem_outputs, pem_props, pem_samples = [], [], [], []
    with torch.no_grad():
        for info in infos:
            name = info["video_name"]
            rows = stored[name][: PGM["top_k"]]
            feat = torch.from_numpy(features[name].astype(np.float32))
            s = ActionDataSample()
            s.set_metainfo(info)
            s.gt_instances = InstanceData(
                bsp_feature=feat,
                tmin=torch.from_numpy(rows[:, 0]),
                tmax=torch.from_numpy(rows[:, 1]),
                tmin_score=torch.from_numpy(rows[:, 2]),
                tmax_score=torch.from_numpy(rows[:, 3]),
                reference_temporal_iou=torch.from_numpy(rows[:, 5]),
            )
            pem_samples.append(s)
            pem_inputs.append(feat)
            pem_outputs.append(pem._forward(feat))
            (out,) = pem.predict(None, [s])
            pem_props.append(torch.tensor([[*p["segment"], p["score"]] for p in out["proposal_list"]]))
        torch.manual_seed(7)
        pem_loss = pem.loss(None, pem_samples)["temporal_iou_loss"]
    full_tem = TEM(
        temporal_dim=100, boundary_ratio=0.1, tem_feat_dim=400, tem_hidden_dim=512, tem_match_threshold=0.5
    )
    full_pem = PEM(**dict(PEM_TINY, pem_hidden_dim=256))
    fixture = {
        "tem_config": TEM_TINY,
        "pem_config": PEM_TINY,
        "pgm_config": PGM,
        "tem_state_dict": tem.state_dict(),
        "pem_state_dict": pem.state_dict(),
        "inputs": inputs,
        "gt_bbox": gt_bbox,
        "tem_output": tem_out,
        "tem_labels": labels,
        "tem_losses": {k: v.detach() for k, v in tem_losses.items()},
        "tem_results": {n: torch.from_numpy(r) for n, r in tem_results},
        "video_infos": infos,
        "pgm_proposals": {n: torch.from_numpy(r) for n, r in proposals.items()},
        "bsp_features": {n: torch.from_numpy(f) for n, f in features.items()},
        "pem_inputs": pem_inputs,
        "pem_outputs": pem_outputs,
        "pem_loss_seed": 7,
        "pem_loss": pem_loss.detach(),
        "pem_proposals": pem_props,
        "full_tem_params": sum(p.numel() for p in full_tem.parameters()),
        "full_pem_params": sum(p.numel() for p in full_pem.parameters()),
        "full_tem_keys": list(full_tem.state_dict()),
        "full_pem_keys": list(full_pem.state_dict()),
    }
    out = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "mmaction2_bsn_tiny.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(fixture, out)
    print(
        f"wrote {out} ({out.stat().st_size} bytes); TEM {fixture['full_tem_params']}, PEM {fixture['full_pem_params']}"
    )


if __name__ == "__main__":
    main()
