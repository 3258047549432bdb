"""The BSN chain, stage by stage, with every intermediate result on disk (MMAction2's layout)::

    <work_dir>/tem.pth                    TEM checkpoint          (stage tem-train)
    <work_dir>/tem_results/<video>.csv    TEM outputs             (stage tem-infer, train + test videos)
    <work_dir>/pgm_proposals/<video>.csv  candidate proposals     (stage pgm)
    <work_dir>/pgm_features/<video>.npy   BSP features            (stage pgm)
    <work_dir>/pem.pth                    PEM checkpoint          (stage pem-train)
    <work_dir>/results.json, metrics.json proposals of the test split and AR@AN / AUC (stage pem-infer)

Each stage reads only files of earlier stages, so a chain can be resumed from any stage.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from action_activitynet.annotations import VideoInfo
from action_bmn.engine import evaluate_proposals, predict_localizer, train_localizer
from action_bsn.models import BSN
from action_bsn.pgm import (
    PROPOSAL_HEADER,
    TEM_HEADER,
    bsp_features,
    candidate_proposals,
    read_csv_table,
    write_csv_table,
)
from action_core.api import strip_video_prefix, write_activitynet_results

__all__ = ["STAGES", "ProposalFeatureDataset", "collate_proposals", "run_bsn", "run_pgm", "write_tem_results"]

log = logging.getLogger(__name__)

STAGES = ("tem-train", "tem-infer", "pgm", "pem-train", "pem-infer")


class ProposalFeatureDataset(Dataset):
    """PEM samples: per video the first ``top_k`` PGM proposals and their BSP features (MMAction2's
    ``LoadProposals``). Items: ``bsp_feature`` (M, F), ``reference_temporal_iou``, ``tmin``, ``tmax``,
    ``tmin_score``, ``tmax_score`` (M,), ``video_name``, ``index`` and the timing fields."""

    multi_label = False
    classes: list[str] = []

    def __init__(
        self,
        videos: Sequence[VideoInfo],
        proposals_dir: str | os.PathLike[str],
        features_dir: str | os.PathLike[str],
        *,
        top_k: int,
    ) -> None:
        self.videos = list(videos)
        self.proposals_dir = Path(proposals_dir)
        self.features_dir = Path(features_dir)
        self.top_k = top_k

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> dict[str, Any]:
        v = self.videos[index]
        props = read_csv_table(self.proposals_dir / f"{v.name}.csv", header=PROPOSAL_HEADER, video=v.name)[
            : self.top_k
        ]
        path = self.features_dir / f"{v.name}.npy"
        try:
            feats = np.load(path).astype(np.float32)[: self.top_k]
        except FileNotFoundError as e:
            raise FileNotFoundError(f"{path}: BSP features of video {v.name!r} missing; run stage pgm") from e
        if len(feats) != len(props):
            raise ValueError(
                f"{path}: {len(feats)} feature rows but {len(props)} proposals for video {v.name!r}; rerun stage pgm"
            )
        col = {
            name: torch.from_numpy(np.ascontiguousarray(props[:, i]))
            for i, name in enumerate(PROPOSAL_HEADER.split(","))
        }
        return {
            "bsp_feature": torch.from_numpy(feats),
            "reference_temporal_iou": col["match_iou"],
            "tmin": col["tmin"],
            "tmax": col["tmax"],
            "tmin_score": col["tmin_score"],
            "tmax_score": col["tmax_score"],
            "video_name": v.name,
            "index": index,
            "duration_second": v.duration_second,
            "duration_frame": v.duration_frame,
            "feature_frame": v.feature_frame,
        }


def collate_proposals(batch: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Every key as a list (proposal counts differ between videos)."""
    return {k: [item[k] for item in batch] for k in batch[0]}


def write_tem_results(results: Mapping[str, np.ndarray], out_dir: str | os.PathLike[str]) -> None:
    """Write each video's (T, 5) TEM result as ``<out_dir>/<video>.csv``."""
    for name, rows in results.items():
        write_csv_table(Path(out_dir) / f"{name}.csv", rows, TEM_HEADER)


def run_pgm(
    videos: Sequence[VideoInfo],
    tem_dir: str | os.PathLike[str],
    proposals_dir: str | os.PathLike[str],
    features_dir: str | os.PathLike[str],
    *,
    temporal_scale: int,
    top_k: int,
    pgm: Mapping[str, Any],
) -> None:
    """Candidate proposals and BSP features of ``videos`` from their TEM result files."""
    sample = {
        k: pgm[k]
        for k in (
            "bsp_boundary_ratio",
            "num_sample_start",
            "num_sample_end",
            "num_sample_action",
            "num_sample_interp",
        )
    }
    Path(features_dir).mkdir(parents=True, exist_ok=True)
    for v in videos:
        tem = read_csv_table(Path(tem_dir) / f"{v.name}.csv", header=TEM_HEADER, video=v.name)
        props = candidate_proposals(
            tem, v, temporal_scale=temporal_scale, peak_threshold=pgm["peak_threshold"]
        )
        write_csv_table(Path(proposals_dir) / f"{v.name}.csv", props, PROPOSAL_HEADER)
        # features are computed from the proposals as written (float32 after the CSV round trip)
        stored = read_csv_table(Path(proposals_dir) / f"{v.name}.csv", header=PROPOSAL_HEADER, video=v.name)
        np.save(Path(features_dir) / f"{v.name}.npy", bsp_features(tem, stored, top_k=top_k, **sample))


def _videos(dataset: Any) -> list[VideoInfo]:
    return list(dataset.videos)


def run_bsn(
    cfg: Mapping[str, Any],
    work_dir: str | os.PathLike[str],
    *,
    model: BSN,
    train_set: Any,
    test_set: Any,
    stages: Sequence[str] = STAGES,
    keep_prefix: bool = False,
) -> dict[str, float]:
    """Run the given ``stages`` of BSN; returns the test metrics when ``pem-infer`` ran (else ``{}``).

    ``train_set``/``test_set`` are localization feature datasets (action-activitynet); the TEM's recipe
    is the config's ``optim``/``schedule``/``data.batch_size``, the PEM's is ``model.pem_recipe``.
    """
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown BSN stages {unknown}; choose from {', '.join(STAGES)}")
    work = Path(work_dir)
    dirs = {k: work / k for k in ("tem_results", "pgm_proposals", "pgm_features")}
    optim, sched = cfg.get("optim", {}), cfg.get("schedule", {})
    seed = int(cfg.get("train", {}).get("seed", 0))
    metrics: dict[str, float] = {}
    if "tem-train" in stages:
        train_localizer(
            model.tem,
            train_set,
            epochs=int(sched.get("epochs", 1)),
            batch_size=int(cfg["data"].get("batch_size", 16)),
            lr=float(optim.get("lr", 1e-3)),
            weight_decay=float(optim.get("weight_decay", 1e-4)),
            milestones=sched.get("milestones", []),
            gamma=float(sched.get("gamma", 0.1)),
            grad_clip=optim.get("grad_clip", 40.0),
            seed=seed,
        )
        work.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": model.tem.state_dict()}, work / "tem.pth")
    elif "tem-infer" in stages and (work / "tem.pth").is_file():
        model.tem.load_state_dict(torch.load(work / "tem.pth", map_location="cpu")["state_dict"])
    if "tem-infer" in stages:
        for dataset in (train_set, test_set):
            write_tem_results(predict_localizer(model.tem, dataset, batch_size=16), dirs["tem_results"])
    if "pgm" in stages:
        pgm = model.pgm
        for videos, k in ((_videos(train_set), pgm["top_k_train"]), (_videos(test_set), pgm["top_k_test"])):
            run_pgm(
                videos,
                dirs["tem_results"],
                dirs["pgm_proposals"],
                dirs["pgm_features"],
                temporal_scale=model.tem.temporal_dim,
                top_k=k,
                pgm=pgm,
            )
    recipe = model.pem_recipe
    if "pem-train" in stages:
        pem_train = ProposalFeatureDataset(
            _videos(train_set), dirs["pgm_proposals"], dirs["pgm_features"], top_k=model.pgm["top_k_train"]
        )
        train_localizer(
            model.pem,
            pem_train,
            epochs=int(recipe["epochs"]),
            batch_size=int(recipe["batch_size"]),
            lr=float(recipe["lr"]),
            weight_decay=float(recipe["weight_decay"]),
            milestones=recipe["milestones"],
            gamma=float(recipe["gamma"]),
            grad_clip=optim.get("grad_clip", 40.0),
            seed=seed,
            collate=collate_proposals,
        )
        torch.save({"state_dict": model.pem.state_dict()}, work / "pem.pth")
    elif "pem-infer" in stages and (work / "pem.pth").is_file():
        model.pem.load_state_dict(torch.load(work / "pem.pth", map_location="cpu")["state_dict"])
    if "pem-infer" in stages:
        pem_test = ProposalFeatureDataset(
            _videos(test_set), dirs["pgm_proposals"], dirs["pgm_features"], top_k=model.pgm["top_k_test"]
        )
        proposals = predict_localizer(model.pem, pem_test, collate=collate_proposals)
        results = {(k if keep_prefix else strip_video_prefix(k)): v for k, v in proposals.items()}
        write_activitynet_results(work / "results.json", results)
        gt = test_set.ground_truth()
        if any(gt.values()):
            metrics = evaluate_proposals(gt, proposals)
            (work / "metrics.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")
    return metrics
