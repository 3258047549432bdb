"""BSN (Lin et al., ECCV 2018) modules in MMAction2 1.2.0's form: TEM and PEM (PGM is in :mod:`action_bsn.pgm`).

BSN is trained stage by stage, as in MMAction2: the TEM on the feature dataset, then the (not learned) PGM
turns the TEM's outputs into candidate proposals and their BSP features, then the PEM on those. Both learned
modules are core localizers (the engine's step protocol), trained by ``action-run train`` with their own
presets.

- TEM: three temporal convolutions over (N, C, T) features giving actionness, start and end probabilities
  (N, 3, T); the layer outputs are scaled by ``conv{1,2,3}_ratio`` before the non-linearities (1, 1, 0.01).
- PEM: a two-layer perceptron on each proposal's 32-d boundary-sensitive feature giving its confidence
  (outputs scaled by ``fc{1,2}_ratio`` = 0.1 before ReLU / sigmoid).

Parameter names equal MMAction2's (``conv1``..``conv3``, ``fc1``, ``fc2``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from action_core.api import (
    BaseLocalizer,
    binary_logistic_regression_loss,
    bsn_proposals,
    float32_losses,
    post_process_proposals,
    temporal_anchors,
    temporal_iop,
)

__all__ = ["PEM", "TEM", "bsn_pem", "bsn_tem", "pem_loss"]


class TEM(BaseLocalizer):
    """Temporal evaluation module: ``forward(x)`` (N, C, T) -> (N, 3, T) actionness / start / end.

    Its predictions are the TEM result rows the PGM reads, not proposals: it has no metric of its own."""

    def __init__(
        self,
        *,
        temporal_dim: int = 100,
        boundary_ratio: float = 0.1,
        tem_feat_dim: int = 400,
        tem_hidden_dim: int = 512,
        tem_match_threshold: float = 0.5,
        loss_weight: float = 2.0,
        output_dim: int = 3,
        conv1_ratio: float = 1.0,
        conv2_ratio: float = 1.0,
        conv3_ratio: float = 0.01,
    ) -> None:
        super().__init__()
        self.temporal_dim = temporal_dim
        self.boundary_ratio = boundary_ratio
        self.feat_dim = tem_feat_dim
        self.match_threshold = tem_match_threshold
        self.loss_weight = loss_weight
        self.ratios = (conv1_ratio, conv2_ratio, conv3_ratio)
        self.conv1 = nn.Conv1d(tem_feat_dim, tem_hidden_dim, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(tem_hidden_dim, tem_hidden_dim, kernel_size=3, padding=1)
        self.conv3 = nn.Conv1d(tem_hidden_dim, output_dim, kernel_size=1)
        self.anchors_tmins, self.anchors_tmaxs = temporal_anchors(temporal_dim)

    @property
    def tscale(self) -> int:
        """Temporal scale the module expects (``temporal_dim``)."""
        return self.temporal_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T) features -> (N, 3, T) actionness, start and end probabilities."""
        if x.ndim != 3 or x.shape[1] != self.feat_dim:
            raise ValueError(f"TEM expects features (N, {self.feat_dim}, T); got {tuple(x.shape)}")
        r1, r2, r3 = self.ratios
        x = F.relu(r1 * self.conv1(x))
        x = F.relu(r2 * self.conv2(x))
        return torch.sigmoid(r3 * self.conv3(x))

    def generate_labels(self, gt_bbox: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Targets (N, T) each: anchor overlap (over anchor length) with the actions, the start regions and
        the end regions; a boundary region is centred on the boundary with width
        ``max(1 / T, boundary_ratio * segment length)``."""
        act, start, end = [], [], []
        amin, amax = self.anchors_tmins[:, None], self.anchors_tmaxs[:, None]
        for i, boxes in enumerate(gt_bbox):
            b = boxes.detach().cpu().numpy() if torch.is_tensor(boxes) else np.asarray(boxes)
            b = b.reshape(-1, 2)
            if len(b) == 0:
                raise ValueError(
                    f"video {i} of the batch has no ground-truth segment; TEM cannot build targets"
                )
            tmin, tmax = b[:, 0], b[:, 1]
            pad = np.maximum(1.0 / self.temporal_dim, self.boundary_ratio * (tmax - tmin))
            act.append(temporal_iop(amin, amax, tmin[None], tmax[None]).max(axis=1))
            start.append(temporal_iop(amin, amax, (tmin - pad / 2)[None], (tmin + pad / 2)[None]).max(axis=1))
            end.append(temporal_iop(amin, amax, (tmax - pad / 2)[None], (tmax + pad / 2)[None]).max(axis=1))
        return tuple(torch.from_numpy(np.stack(x)).float() for x in (act, start, end))  # type: ignore[return-value]

    def training_step(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """``loss_action`` (x ``loss_weight``), ``loss_start``, ``loss_end`` and their sum ``loss``, computed
        in float32 under mixed precision."""
        out = self(batch["inputs"])
        targets = [t.to(out.device) for t in self.generate_labels(batch["gt_bbox"])]
        with float32_losses(out.device):
            out = out.float()
            action, start, end = (
                binary_logistic_regression_loss(out[:, k], targets[k], self.match_threshold) for k in range(3)
            )
        losses = {"loss_action": action * self.loss_weight, "loss_start": start, "loss_end": end}
        losses["loss"] = losses["loss_action"] + start + end
        return losses

    def predict_step(self, batch: Mapping[str, Any]) -> list[tuple[str, np.ndarray]]:
        """Per video a (T, 5) array ``[action, start, end, tmin, tmax]`` (MMAction2's TEM result CSV)."""
        out = self(batch["inputs"]).detach().float().cpu().numpy()
        return [
            (
                name,
                np.stack([out[i, 0], out[i, 1], out[i, 2], self.anchors_tmins, self.anchors_tmaxs], axis=1),
            )
            for i, name in enumerate(batch["video_name"])
        ]


def pem_loss(
    score: torch.Tensor,
    iou: torch.Tensor,
    *,
    high_threshold: float = 0.6,
    low_threshold: float = 0.2,
    u_ratio_m: float = 1.0,
    u_ratio_l: float = 2.0,
) -> torch.Tensor:
    """PEM's tIoU regression loss, as MMAction2 1.2.0 computes it.

    MMAction2 draws a balanced subset (all high-tIoU proposals, ``u_ratio_m``/``u_ratio_l`` times as many
    medium/low ones; two ``torch.rand`` draws) but applies the weights to the already averaged smooth-L1
    loss, so the value equals the plain mean smooth-L1 over all proposals whenever the subset is not empty.
    The draws are kept so that seeded runs consume the random stream as MMAction2 does.
    """
    high = (iou > high_threshold).float()
    medium = ((iou <= high_threshold) & (iou > low_threshold)).float()
    low = (iou <= low_threshold).float()
    n_high = high.sum()
    one = torch.ones(1, device=iou.device)
    r_m = torch.min(u_ratio_m * n_high / medium.sum(), one)[0]
    keep_m = ((torch.rand(iou.shape[0], device=iou.device) * medium) > (1.0 - r_m)).float()
    r_l = torch.min(u_ratio_l * n_high / low.sum(), one)[0]
    keep_l = ((torch.rand(iou.shape[0], device=iou.device) * low) > (1.0 - r_l)).float()
    weights = high + keep_m + keep_l
    mean_loss = F.smooth_l1_loss(score, iou)
    return (mean_loss * weights).sum() / weights.sum()


class PEM(BaseLocalizer):
    """Proposal evaluation module: ``forward(x)`` (M, 32) boundary-sensitive features -> (M, 1) confidence.

    Batches are PGM proposal samples (:mod:`action_bsn.dataset`): per video ``inputs`` (M, 32) BSP
    features, ``label`` (M,) each proposal's reference tIoU, the proposal bounds and scores."""

    input_format = "NC"

    def __init__(
        self,
        *,
        pem_feat_dim: int = 32,
        pem_hidden_dim: int = 256,
        pem_u_ratio_m: float = 1.0,
        pem_u_ratio_l: float = 2.0,
        pem_high_temporal_iou_threshold: float = 0.6,
        pem_low_temporal_iou_threshold: float = 0.2,
        soft_nms_alpha: float = 0.75,
        soft_nms_low_threshold: float = 0.65,
        soft_nms_high_threshold: float = 0.9,
        post_process_top_k: int = 100,
        feature_extraction_interval: int = 16,
        fc1_ratio: float = 0.1,
        fc2_ratio: float = 0.1,
        output_dim: int = 1,
    ) -> None:
        super().__init__()
        self.feat_dim = pem_feat_dim
        self.loss_args = {
            "high_threshold": pem_high_temporal_iou_threshold,
            "low_threshold": pem_low_temporal_iou_threshold,
            "u_ratio_m": pem_u_ratio_m,
            "u_ratio_l": pem_u_ratio_l,
        }
        self.soft_nms = {
            "soft_nms_alpha": soft_nms_alpha,
            "soft_nms_low_threshold": soft_nms_low_threshold,
            "soft_nms_high_threshold": soft_nms_high_threshold,
            "top_k": post_process_top_k,
            "feature_extraction_interval": feature_extraction_interval,
        }
        self.ratios = (fc1_ratio, fc2_ratio)
        self.fc1 = nn.Linear(pem_feat_dim, pem_hidden_dim)
        self.fc2 = nn.Linear(pem_hidden_dim, output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(M, pem_feat_dim) -> (M, 1) proposal confidence."""
        r1, r2 = self.ratios
        return torch.sigmoid(r2 * self.fc2(F.relu(r1 * self.fc1(x))))

    def training_step(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """``temporal_iou_loss`` (= ``loss``) over all proposals of the batch (``inputs``, ``label``)."""
        device = self.fc1.weight.device
        feats = torch.cat(list(batch["inputs"])).to(device)
        iou = torch.cat(list(batch["label"])).to(device)
        score = self(feats).reshape(-1)
        with float32_losses(device):
            value = pem_loss(score.float(), iou.float(), **self.loss_args)
        return {"temporal_iou_loss": value, "loss": value}

    def predict_step(self, batch: Mapping[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
        """Per video: fused score ``pem * tmin_score * tmax_score``, Soft-NMS, top-k proposals in seconds."""
        out = []
        for i, name in enumerate(batch["video_name"]):
            feats = batch["inputs"][i].to(self.fc1.weight.device)
            conf = self(feats).reshape(-1).detach().float().cpu().numpy()
            props = bsn_proposals(
                batch["tmin"][i], batch["tmax"][i], batch["tmin_score"][i], batch["tmax_score"][i], conf
            )
            out.append(
                (
                    name,
                    post_process_proposals(
                        props,
                        duration_second=float(batch["duration_second"][i]),
                        duration_frame=int(batch["duration_frame"][i]),
                        **self.soft_nms,
                    ),
                )
            )
        return out


def bsn_tem(
    *,
    num_classes: int = 1,
    temporal_dim: int = 100,
    boundary_ratio: float = 0.1,
    tem_feat_dim: int = 400,
    tem_hidden_dim: int = 512,
    tem_match_threshold: float = 0.5,
    weights: str | None = None,
) -> TEM:
    """BSN's TEM (MMAction2 ``bsn_tem`` defaults); ``num_classes`` must be 1 (class-agnostic)."""
    _one_class(num_classes)
    model = TEM(
        temporal_dim=temporal_dim,
        boundary_ratio=boundary_ratio,
        tem_feat_dim=tem_feat_dim,
        tem_hidden_dim=tem_hidden_dim,
        tem_match_threshold=tem_match_threshold,
    )
    _maybe_load(model, weights, "tem")
    return model


def bsn_pem(
    *,
    num_classes: int = 1,
    pem_feat_dim: int = 32,
    pem_hidden_dim: int = 256,
    pem_u_ratio_m: float = 1.0,
    pem_u_ratio_l: float = 2.0,
    pem_high_temporal_iou_threshold: float = 0.6,
    pem_low_temporal_iou_threshold: float = 0.2,
    soft_nms_alpha: float = 0.75,
    soft_nms_low_threshold: float = 0.65,
    soft_nms_high_threshold: float = 0.9,
    post_process_top_k: int = 100,
    feature_extraction_interval: int = 16,
    weights: str | None = None,
) -> PEM:
    """BSN's PEM (MMAction2 ``bsn_pem`` defaults)."""
    _one_class(num_classes)
    model = PEM(
        pem_feat_dim=pem_feat_dim,
        pem_hidden_dim=pem_hidden_dim,
        pem_u_ratio_m=pem_u_ratio_m,
        pem_u_ratio_l=pem_u_ratio_l,
        pem_high_temporal_iou_threshold=pem_high_temporal_iou_threshold,
        pem_low_temporal_iou_threshold=pem_low_temporal_iou_threshold,
        soft_nms_alpha=soft_nms_alpha,
        soft_nms_low_threshold=soft_nms_low_threshold,
        soft_nms_high_threshold=soft_nms_high_threshold,
        post_process_top_k=post_process_top_k,
        feature_extraction_interval=feature_extraction_interval,
    )
    _maybe_load(model, weights, "pem")
    return model


def _one_class(num_classes: int) -> None:
    if num_classes != 1:
        raise ValueError(f"BSN generates class-agnostic proposals; num_classes must be 1, got {num_classes}")


def _maybe_load(model: nn.Module, weights: str | None, module: str) -> None:
    if weights is None:
        return
    from action_bsn.convert import load_bsn_weights

    load_bsn_weights(model, weights, module=module)
