"""Build the MMAction2 1.2.0 reference fixture for BMN (run by hand in a side venv; never by pytest).

    $SIDE/bin/python plugins/action-bmn/tools/make_mmaction2_fixtures.py

Needs mmaction2==1.2.0 (its wheel lacks ``mmaction/models/localizers/drn``; add a stub package defining
``class DRN``). Writes ``tests/fixtures/mmaction2_bmn_tiny.pt``: a tiny random-weight BMN (same code paths,
small widths), its state dict, an input batch and every output the tests compare: the network outputs,
the training targets of given ground truth, the three losses under a fixed seed, the post-processed
proposals, and the parameter counts of the full ``bmn_400x100`` model.
"""

from __future__ import annotations

from pathlib import Path

import torch
from mmaction.models.localizers import BMN
from mmaction.structures import ActionDataSample

TINY = dict(
    temporal_dim=16,
    boundary_ratio=0.5,
    num_samples=8,
    num_samples_per_bin=3,
    feat_dim=16,
    soft_nms_alpha=0.4,
    soft_nms_low_threshold=0.5,
    soft_nms_high_threshold=0.9,
    post_process_top_k=100,
    hidden_dim_1d=16,
    hidden_dim_2d=8,
    hidden_dim_3d=16,
)
FULL = dict(
    temporal_dim=100,
    boundary_ratio=0.5,
    num_samples=32,
    num_samples_per_bin=3,
    feat_dim=400,
    soft_nms_alpha=0.4,
    soft_nms_low_threshold=0.5,
    soft_nms_high_threshold=0.9,
    post_process_top_k=100,
)


def main() -> None:
    torch.manual_seed(0)
    model = BMN(**TINY).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.copy_(torch.randn_like(p) * 0.3)
    inputs = torch.randn(2, TINY["feat_dim"], TINY["temporal_dim"])
    gt_bbox = [
        torch.tensor([[0.1, 0.35], [0.5, 0.9]], dtype=torch.float64),
        torch.tensor([[0.0, 0.2], [0.25, 0.25625], [0.6, 1.0]], dtype=torch.float64),
    ]
    with torch.no_grad():
        cmap, start, end = model._forward(inputs)
        gt_iou_map, gt_start, gt_end = model.generate_labels(gt_bbox)
        torch.manual_seed(123)
        losses = model.loss_cls(cmap, start, end, gt_iou_map, gt_start, gt_end, model.bm_mask)
        infos = [
            {"video_name": "v_a", "duration_second": 37.5, "duration_frame": 1125},
            {"video_name": "v_b", "duration_second": 20.0, "duration_frame": 500},
        ]
        proposals = []
        for i, info in enumerate(infos):
            sample = ActionDataSample()
            sample.set_metainfo(info)
            (out,) = model.predict(inputs[i : i + 1], [sample])
            proposals.append(torch.tensor([[*p["segment"], p["score"]] for p in out["proposal_list"]]))
    full = BMN(**FULL)
    fixture = {
        "config": TINY,
        "state_dict": {k: v.clone() for k, v in model.state_dict().items()},
        "inputs": inputs,
        "confidence_map": cmap,
        "start": start,
        "end": end,
        "gt_bbox": gt_bbox,
        "gt_iou_map": gt_iou_map,
        "gt_start": gt_start,
        "gt_end": gt_end,
        "loss_seed": 123,
        "losses": torch.stack([x.detach() for x in losses]),
        "video_infos": infos,
        "proposals": proposals,
        "full_params": sum(p.numel() for p in full.parameters()),
        "full_trainable_params": sum(p.numel() for p in full.parameters() if p.requires_grad),
        "full_state_keys": list(full.state_dict()),
    }
    out = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "mmaction2_bmn_tiny.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(fixture, out)
    print(f"wrote {out} ({out.stat().st_size} bytes); full BMN params {fixture['full_params']}")


if __name__ == "__main__":
    main()
