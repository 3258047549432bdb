"""BMN: Boundary-Matching Network (Lin et al., ICCV 2019), in MMAction2 1.2.0's form.

Layout (parameter names equal MMAction2's so its checkpoints load after :mod:`action_bmn.convert`):

- base module ``x_1d_b``: two grouped 3-tap temporal convolutions on the (N, C, T) snippet features;
- temporal evaluation module ``x_1d_s`` / ``x_1d_e``: start and end probabilities (N, T);
- proposal evaluation module: ``x_1d_p`` then the boundary-matching layer (one matmul with a fixed
  sampling mask) giving (N, C, num_samples, D, T) proposal features for every (duration, start) pair,
  ``x_3d_p`` collapses the samples, ``x_2d_p`` scores each pair: channel 0 the regression confidence
  (trained on tIoU), channel 1 the classification confidence. The map is indexed ``[duration - 1, start]``.

The sampling mask is built once per configuration (vectorised, cached) and stored, as in MMAction2, as a
frozen parameter ``sample_mask`` of shape (T, num_samples * T * T); ``bm_mask`` (D, T) marks the valid
pairs (row ``d`` has ``T - d`` valid starts).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from action_core.api import (
    BaseLocalizer,
    binary_logistic_regression_loss,
    bmn_proposals,
    float32_losses,
    post_process_proposals,
    temporal_anchors,
    temporal_iop,
)

__all__ = [
    "BMN",
    "BMNLoss",
    "bmn",
    "boundary_matching_mask",
    "bmn_loss",
    "pem_cls_loss",
    "pem_reg_loss",
    "tem_loss",
]


@functools.lru_cache(maxsize=4)
def _sampling_mask(
    tscale: int, boundary_ratio: float, num_samples: int, num_samples_per_bin: int
) -> np.ndarray:
    n_points = num_samples * num_samples_per_bin
    start = np.arange(tscale, dtype=np.float64)[:, None]  # (S, 1)
    dur = np.arange(tscale, dtype=np.float64)[None, :]  # (1, D)
    center_len = dur + 1.0
    lo = start - center_len * boundary_ratio
    hi = start + dur + center_len * boundary_ratio
    step = (hi - lo) / (n_points - 1.0)
    points = lo[..., None] + step[..., None] * np.arange(n_points)  # (S, D, P)
    frac, floor = np.modf(points)  # frac has the sign of the point, as math.modf
    ceil = np.ceil(points)
    idx = np.stack([floor, ceil], axis=-1).astype(np.int64)  # (S, D, P, 2)
    weight = np.stack([1.0 - frac, frac], axis=-1)
    valid_pair = (start + dur < tscale)[..., None, None]
    ok = valid_pair & (idx >= 0) & (idx <= tscale - 1)
    s_i, d_i, p_i, _ = np.nonzero(ok)
    mask = np.zeros((tscale, tscale, num_samples, tscale), dtype=np.float64)  # (S, D, N, T)
    # contributions in sample order so the float sums match a sequential accumulation
    np.add.at(mask, (s_i, d_i, p_i // num_samples_per_bin, idx[ok]), weight[ok])
    mask = (1.0 / num_samples_per_bin) * mask
    out = np.ascontiguousarray(mask.transpose(3, 2, 1, 0)).astype(np.float32)  # (T, N, D, S)
    out.setflags(write=False)
    return out


def boundary_matching_mask(
    tscale: int, boundary_ratio: float, num_samples: int, num_samples_per_bin: int
) -> torch.Tensor:
    """BMN's sampling mask (T, num_samples, D, S) as float32.

    For the proposal starting at ``s`` with duration index ``d`` (covering positions ``s .. s + d``), the
    region is extended by ``boundary_ratio * (d + 1)`` on both sides and ``num_samples * num_samples_per_bin``
    evenly spaced points are drawn in it; every point spreads a weight of ``1 / num_samples_per_bin`` over its
    two neighbouring positions by linear interpolation, and each group of ``num_samples_per_bin`` consecutive
    points makes one of the ``num_samples`` samples. Points outside [0, T - 1] contribute nothing, except
    that a point in (-1, 0) puts its whole weight on position 0 (MMAction2's ``math.modf`` arithmetic).
    Pairs with ``s + d >= T`` are all zeros.
    """
    if tscale < 2 or num_samples < 1 or num_samples_per_bin < 1 or num_samples * num_samples_per_bin < 2:
        raise ValueError(
            f"need tscale >= 2 and num_samples * num_samples_per_bin >= 2; got {tscale=}, {num_samples=}, "
            f"{num_samples_per_bin=}"
        )
    return torch.from_numpy(
        _sampling_mask(int(tscale), float(boundary_ratio), int(num_samples), int(num_samples_per_bin)).copy()
    )


def tem_loss(
    pred_start: torch.Tensor, pred_end: torch.Tensor, gt_start: torch.Tensor, gt_end: torch.Tensor
) -> torch.Tensor:
    """Temporal evaluation loss: the balanced logistic loss of the start plus that of the end scores."""
    return binary_logistic_regression_loss(pred_start, gt_start) + binary_logistic_regression_loss(
        pred_end, gt_end
    )


def pem_reg_loss(
    pred_score: torch.Tensor,
    gt_iou_map: torch.Tensor,
    mask: torch.Tensor,
    high_temporal_iou_threshold: float = 0.7,
    low_temporal_iou_threshold: float = 0.3,
) -> torch.Tensor:
    """PEM regression loss: half the squared error on a balanced random subset of map entries.

    Entries with tIoU above ``high`` all count; of the medium (``low < tIoU <= high``) and low
    (``0 < tIoU <= low``, valid pairs only) entries a random share is kept so that each group is about as
    large as the high one. Two ``torch.rand`` draws (medium, then low) use the global generator, as
    MMAction2 does, so a seeded run reproduces its subset.
    """
    high = (gt_iou_map > high_temporal_iou_threshold).float()
    medium = ((gt_iou_map <= high_temporal_iou_threshold) & (gt_iou_map > low_temporal_iou_threshold)).float()
    low = ((gt_iou_map <= low_temporal_iou_threshold) & (gt_iou_map > 0.0)).float() * mask
    n_high = high.sum()
    keep_medium = ((medium * torch.rand_like(gt_iou_map)) > (1.0 - n_high / medium.sum())).float()
    keep_low = ((low * torch.rand_like(gt_iou_map)) > (1.0 - n_high / low.sum())).float()
    weights = high + keep_medium + keep_low
    return 0.5 * torch.square((pred_score - gt_iou_map) * weights).sum() / weights.sum()


def pem_cls_loss(
    pred_score: torch.Tensor,
    gt_iou_map: torch.Tensor,
    mask: torch.Tensor,
    threshold: float = 0.9,
    ratio_range: Sequence[float] = (1.05, 21.0),
    eps: float = 1e-5,
) -> torch.Tensor:
    """PEM classification loss: balanced log loss with positives ``tIoU > threshold`` over the valid pairs."""
    positive = (gt_iou_map > threshold).float()
    negative = (gt_iou_map <= threshold).float() * mask
    n_pos = torch.clamp(positive.sum(), min=1.0)
    n_entries = n_pos + negative.sum()
    ratio = torch.clamp(n_entries / n_pos, float(ratio_range[0]), float(ratio_range[1]))
    w_neg = 0.5 * ratio / (ratio - 1.0)
    w_pos = 0.5 * ratio
    log_lik = (
        w_pos * torch.log(pred_score + eps) * positive + w_neg * torch.log(1.0 - pred_score + eps) * negative
    )
    return -log_lik.sum() / n_entries


def bmn_loss(
    pred_bm: torch.Tensor,
    pred_start: torch.Tensor,
    pred_end: torch.Tensor,
    gt_iou_map: torch.Tensor,
    gt_start: torch.Tensor,
    gt_end: torch.Tensor,
    bm_mask: torch.Tensor,
    *,
    weight_tem: float = 1.0,
    weight_pem_reg: float = 10.0,
    weight_pem_cls: float = 1.0,
) -> dict[str, torch.Tensor]:
    """BMN's three losses and their weighted sum ``loss`` (weights 1, 10, 1 as in the paper)."""
    gt_iou_map = gt_iou_map * bm_mask
    reg = pem_reg_loss(pred_bm[:, 0].contiguous(), gt_iou_map, bm_mask)
    cls = pem_cls_loss(pred_bm[:, 1].contiguous(), gt_iou_map, bm_mask)
    tem = tem_loss(pred_start, pred_end, gt_start, gt_end)
    total = weight_tem * tem + weight_pem_reg * reg + weight_pem_cls * cls
    return {"loss": total, "tem_loss": tem, "pem_reg_loss": reg, "pem_cls_loss": cls}


class BMNLoss(nn.Module):
    """:func:`bmn_loss` as a module (registered as the ``bmn_loss`` component)."""

    def __init__(
        self, *, weight_tem: float = 1.0, weight_pem_reg: float = 10.0, weight_pem_cls: float = 1.0
    ) -> None:
        super().__init__()
        self.weights = {
            "weight_tem": weight_tem,
            "weight_pem_reg": weight_pem_reg,
            "weight_pem_cls": weight_pem_cls,
        }

    def forward(self, *args: torch.Tensor) -> dict[str, torch.Tensor]:
        """``(pred_bm, pred_start, pred_end, gt_iou_map, gt_start, gt_end, bm_mask)`` -> losses."""
        return bmn_loss(*args, **self.weights)


def _conv1d(cin: int, cout: int, groups: int = 1) -> nn.Conv1d:
    return nn.Conv1d(cin, cout, kernel_size=3, padding=1, groups=groups)


class BMN(BaseLocalizer):
    """Boundary-Matching Network; ``forward(x)`` with x (N, feat_dim, T) returns
    ``(confidence_map (N, 2, T, T), start (N, T), end (N, T))``."""

    def __init__(
        self,
        *,
        temporal_dim: int = 100,
        boundary_ratio: float = 0.5,
        num_samples: int = 32,
        num_samples_per_bin: int = 3,
        feat_dim: int = 400,
        hidden_dim_1d: int = 256,
        hidden_dim_2d: int = 128,
        hidden_dim_3d: int = 512,
        soft_nms_alpha: float = 0.4,
        soft_nms_low_threshold: float = 0.5,
        soft_nms_high_threshold: float = 0.9,
        post_process_top_k: int = 100,
        feature_extraction_interval: int = 16,
    ) -> None:
        super().__init__()
        if feat_dim % 4 or hidden_dim_1d % 4:
            raise ValueError(
                f"feat_dim and hidden_dim_1d must be multiples of 4 (grouped convolutions); got {feat_dim}, "
                f"{hidden_dim_1d}"
            )
        self.tscale = temporal_dim
        self.boundary_ratio = boundary_ratio
        self.num_samples = num_samples
        self.num_samples_per_bin = num_samples_per_bin
        self.feat_dim = feat_dim
        self.soft_nms = {
            "soft_nms_alpha": soft_nms_alpha,
            "soft_nms_low_threshold": soft_nms_low_threshold,
            "soft_nms_high_threshold": soft_nms_high_threshold,
            "top_k": post_process_top_k,
            "feature_extraction_interval": feature_extraction_interval,
        }
        mask = boundary_matching_mask(temporal_dim, boundary_ratio, num_samples, num_samples_per_bin)
        # a frozen parameter, not a buffer: MMAction2 stores it so, and its checkpoints carry it
        self.sample_mask = nn.Parameter(mask.reshape(temporal_dim, -1), requires_grad=False)
        h1, h2, h3 = hidden_dim_1d, hidden_dim_2d, hidden_dim_3d
        self.x_1d_b = nn.Sequential(
            _conv1d(feat_dim, h1, groups=4),
            nn.ReLU(inplace=True),
            _conv1d(h1, h1, groups=4),
            nn.ReLU(inplace=True),
        )
        self.x_1d_s = nn.Sequential(
            _conv1d(h1, h1, groups=4), nn.ReLU(inplace=True), nn.Conv1d(h1, 1, kernel_size=1), nn.Sigmoid()
        )
        self.x_1d_e = nn.Sequential(
            _conv1d(h1, h1, groups=4), nn.ReLU(inplace=True), nn.Conv1d(h1, 1, kernel_size=1), nn.Sigmoid()
        )
        self.x_1d_p = nn.Sequential(_conv1d(h1, h1), nn.ReLU(inplace=True))
        self.x_3d_p = nn.Sequential(nn.Conv3d(h1, h3, kernel_size=(num_samples, 1, 1)), nn.ReLU(inplace=True))
        self.x_2d_p = nn.Sequential(
            nn.Conv2d(h3, h2, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(h2, h2, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(h2, h2, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(h2, 2, kernel_size=1),
            nn.Sigmoid(),
        )
        rows = torch.arange(temporal_dim)[:, None]
        cols = torch.arange(temporal_dim)[None, :]
        # Derived from the temporal scale: recomputed, never stored (0.x checkpoints lack it).
        self.register_buffer("bm_mask", (cols < temporal_dim - rows).float(), persistent=False)
        self.anchors_tmins, self.anchors_tmaxs = temporal_anchors(temporal_dim, -0.5, 1.5)
        gap = 1.0 / temporal_dim
        tmin = gap * np.arange(temporal_dim, dtype=np.float64)
        # match_map[d, s] = [s / T, s / T + (d + 1) / T] (MMAction2 adds the two float terms)
        tmax = tmin[None, :] + gap * np.arange(1, temporal_dim + 1, dtype=np.float64)[:, None]
        self.match_map = np.stack([np.broadcast_to(tmin, tmax.shape), tmax], axis=-1).reshape(-1, 2)

    def boundary_matching_layer(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T) -> (N, C, num_samples, D, T) proposal features through the fixed sampling mask."""
        n, c, _ = x.shape
        return torch.matmul(x, self.sample_mask).reshape(n, c, self.num_samples, self.tscale, self.tscale)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Confidence map (N, 2, D, T), start (N, T) and end (N, T) probabilities."""
        if x.ndim != 3 or x.shape[1] != self.feat_dim or x.shape[2] != self.tscale:
            raise ValueError(
                f"BMN expects features (N, {self.feat_dim}, {self.tscale}); got {tuple(x.shape)}. Rescale the "
                f"features to temporal_dim={self.tscale} (the dataset's temporal_scale)"
            )
        base = self.x_1d_b(x)
        start = self.x_1d_s(base).squeeze(1)
        end = self.x_1d_e(base).squeeze(1)
        bm = self.boundary_matching_layer(self.x_1d_p(base))
        bm = self.x_3d_p(bm).squeeze(2)
        return self.x_2d_p(bm), start, end

    def generate_labels(self, gt_bbox: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Training targets from normalised ground truth (one (K, 2) array or tensor per video, K >= 1).

        Returns ``gt_iou_map`` (N, D, T): the best tIoU of each (duration, start) proposal with any
        ground-truth segment; ``gt_start``/``gt_end`` (N, T): the best overlap (over the anchor length) of
        anchor ``[(i - 0.5) / T, (i + 1.5) / T]`` with a window of width 3 / T around any start / end.
        """
        iou_maps, starts, ends = [], [], []
        pad = 3 * (1.0 / self.tscale)
        for i, boxes in enumerate(gt_bbox):
            b = (
                boxes.detach().cpu().double().numpy()
                if torch.is_tensor(boxes)
                else np.asarray(boxes, np.float64)
            )
            b = b.reshape(-1, 2)
            if len(b) == 0:
                raise ValueError(
                    f"video {i} of the batch has no ground-truth segment; BMN cannot build targets"
                )
            iou = _iou_columns(self.match_map[:, 0], self.match_map[:, 1], b[:, 0], b[:, 1])
            iou_maps.append(iou.astype(np.float32).max(axis=1).reshape(self.tscale, self.tscale))
            for tgt, out in ((b[:, 0], starts), (b[:, 1], ends)):
                ov = temporal_iop(
                    self.anchors_tmins[:, None],
                    self.anchors_tmaxs[:, None],
                    (tgt - pad / 2)[None],
                    (tgt + pad / 2)[None],
                )
                out.append(ov.max(axis=1))
        return (
            torch.from_numpy(np.stack(iou_maps)).float(),
            torch.from_numpy(np.stack(starts)).float(),
            torch.from_numpy(np.stack(ends)).float(),
        )

    def training_step(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """BMN losses of a collated batch (``inputs`` and ``gt_bbox``): ``loss`` (optimised), ``tem_loss``,
        ``pem_reg_loss``, ``pem_cls_loss``; computed in float32 under mixed precision."""
        inputs = batch["inputs"]
        gt_iou_map, gt_start, gt_end = (t.to(inputs.device) for t in self.generate_labels(batch["gt_bbox"]))
        cmap, start, end = self(inputs)
        with float32_losses(inputs.device):
            return bmn_loss(
                cmap.float(), start.float(), end.float(), gt_iou_map, gt_start, gt_end, self.bm_mask
            )

    def predict_step(self, batch: Mapping[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
        """Proposals in seconds per video: candidate boundaries, fused scores, Soft-NMS, top-k (core)."""
        cmap, start, end = (t.float() for t in self(batch["inputs"]))
        out = []
        for i, name in enumerate(batch["video_name"]):
            props = bmn_proposals(start[i], end[i], cmap[i])
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


def _iou_columns(amin: np.ndarray, amax: np.ndarray, gmin: np.ndarray, gmax: np.ndarray) -> np.ndarray:
    """(A, G) tIoU matrix in MMAction2's arithmetic."""
    length = (amax - amin)[:, None]
    inter = np.maximum(np.minimum(amax[:, None], gmax[None]) - np.maximum(amin[:, None], gmin[None]), 0.0)
    return inter / (length - inter + gmax[None] - gmin[None])


def bmn(
    *,
    num_classes: int = 1,
    temporal_dim: int = 100,
    boundary_ratio: float = 0.5,
    num_samples: int = 32,
    num_samples_per_bin: int = 3,
    feat_dim: int = 400,
    hidden_dim_1d: int = 256,
    hidden_dim_2d: int = 128,
    hidden_dim_3d: int = 512,
    soft_nms_alpha: float = 0.4,
    soft_nms_low_threshold: float = 0.5,
    soft_nms_high_threshold: float = 0.9,
    post_process_top_k: int = 100,
    feature_extraction_interval: int = 16,
    weights: str | None = None,
) -> BMN:
    """BMN builder (MMAction2 ``bmn_400x100`` defaults). ``num_classes`` is accepted for the experiment config
    and must be 1: BMN scores class-agnostic proposals. ``weights``: a checkpoint path (this toolkit's or
    MMAction2's, converted on the fly)."""
    if num_classes != 1:
        raise ValueError(f"BMN generates class-agnostic proposals; num_classes must be 1, got {num_classes}")
    model = BMN(
        temporal_dim=temporal_dim,
        boundary_ratio=boundary_ratio,
        num_samples=num_samples,
        num_samples_per_bin=num_samples_per_bin,
        feat_dim=feat_dim,
        hidden_dim_1d=hidden_dim_1d,
        hidden_dim_2d=hidden_dim_2d,
        hidden_dim_3d=hidden_dim_3d,
        soft_nms_alpha=soft_nms_alpha,
        soft_nms_low_threshold=soft_nms_low_threshold,
        soft_nms_high_threshold=soft_nms_high_threshold,
        post_process_top_k=post_process_top_k,
        feature_extraction_interval=feature_extraction_interval,
    )
    if weights is not None:
        from action_bmn.convert import load_bmn_weights

        load_bmn_weights(model, weights)
    return model
