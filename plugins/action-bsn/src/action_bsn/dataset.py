"""The PEM's dataset: per video the first ``top_k`` PGM proposals and their BSP features (MMAction2's
``LoadProposals``), read from the folder ``action-run bsn pgm`` wrote (registered as ``bsn_proposals``;
``data.root`` is that folder).

One item per video::

    {"inputs": float32 (M, F) BSP features, "label": float32 (M,) each proposal's reference tIoU (the PEM's
     target), "tmin", "tmax", "tmin_score", "tmax_score": float32 (M,), "video_name", "index",
     "duration_second", "duration_frame", "feature_frame"}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from action_bsn.pgm import PGM_DEFAULTS, PROPOSAL_HEADER, generate_proposals, read_csv_table
from action_core.api import AnnotationError, Segment, VideoInfo, check_localization_pipeline

__all__ = ["ProposalFeatureDataset", "build", "collate_proposals", "example", "read_videos"]


def collate_proposals(batch: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Every key as a list (proposal counts differ between videos), ``index`` as a tensor."""
    out: dict[str, Any] = {k: [item[k] for item in batch] for k in batch[0]}
    out["index"] = torch.tensor(out["index"], dtype=torch.int64)
    return out


class ProposalFeatureDataset(Dataset):
    """PGM proposals and BSP features of ``videos`` under ``folder`` (``pgm_proposals/``, ``pgm_features/``).

    In training mode videos without annotated segments are left out, as in the TEM's dataset.
    """

    multi_label = False
    classes: list[str] = []

    def __init__(
        self,
        videos: Sequence[VideoInfo],
        folder: str | os.PathLike[str],
        *,
        top_k: int | None,
        test_mode: bool,
    ) -> None:
        self.folder = Path(folder)
        self.videos = [v for v in videos if test_mode or v.segments]
        self.top_k = top_k
        missing = [
            v.name for v in self.videos if not (self.folder / "pgm_features" / f"{v.name}.npy").is_file()
        ]
        if missing:
            raise AnnotationError(
                f"{len(missing)} video(s) have no PGM features ({', '.join(missing[:5])}"
                f"{' ...' if len(missing) > 5 else ''}); run `action-run bsn pgm` with the TEM of this split",
                path=str(self.folder),
            )

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> dict[str, Any]:
        v = self.videos[index]
        path = self.folder / "pgm_proposals" / f"{v.name}.csv"
        props = read_csv_table(path, header=PROPOSAL_HEADER, video=v.name)[: self.top_k]
        feats = np.load(self.folder / "pgm_features" / f"{v.name}.npy").astype(np.float32)[: self.top_k]
        if len(feats) != len(props):
            raise AnnotationError(
                f"video {v.name!r}: {len(feats)} BSP feature rows but {len(props)} proposals; rerun "
                "`action-run bsn pgm` (top_k beyond the proposals it kept?)",
                path=str(path),
            )
        col = {
            name: torch.from_numpy(np.ascontiguousarray(props[:, i]))
            for i, name in enumerate(PROPOSAL_HEADER.split(","))
        }
        return {
            "inputs": torch.from_numpy(feats),
            "label": col["match_iou"],
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

    @staticmethod
    def collate(batch: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """How the engine batches these items: :func:`collate_proposals`."""
        return collate_proposals(batch)

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """``{video name: [{"segment": [t0, t1], "label"}]}`` in seconds, for the localization metrics."""
        return {
            v.name: [{"segment": [s.start, s.end], "label": s.label} for s in v.segments] for v in self.videos
        }


def read_videos(path: str | os.PathLike[str]) -> list[VideoInfo]:
    """The videos of an ``anno_<split>.json`` that ``action-run bsn pgm`` wrote."""
    try:
        listing = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise AnnotationError(
            "no such split in this PGM folder; run `action-run bsn pgm` (it writes one anno_<split>.json per "
            "split of the TEM's config)",
            path=str(path),
        ) from e
    return [
        VideoInfo(
            name=name,
            duration_second=float(v["duration_second"]),
            duration_frame=int(v["duration_frame"]),
            feature_frame=int(v["feature_frame"]),
            segments=tuple(
                Segment(float(a["segment"][0]), float(a["segment"][1]), a["label"]) for a in v["annotations"]
            ),
        )
        for name, v in listing.items()
    ]


def build(
    split: str,
    *,
    root: str,
    pipeline: Sequence[Mapping[str, Any]] = (),
    test_mode: bool = False,
    top_k: int | None = None,
) -> ProposalFeatureDataset:
    """The PEM samples of ``split`` from the PGM folder ``root``; ``top_k`` proposals per video (default: all
    that were kept, ``top_k_train`` / ``top_k_test`` of the PGM)."""
    check_localization_pipeline(pipeline)
    if not root:
        raise AnnotationError(
            "data.root must name the folder `action-run bsn pgm` wrote (--data-root work_dirs/bsn_pgm)",
            path=".",
        )
    return ProposalFeatureDataset(
        read_videos(Path(root) / f"anno_{split}.json"), root, top_k=top_k, test_mode=test_mode
    )


def example(tmp_dir: Path) -> dict[str, Any]:
    """A tiny PGM folder (2 videos, TEM results of 12 positions) and the builder kwargs for it."""
    rng = np.random.default_rng(0)
    videos = [
        VideoInfo(f"v_example{i}", 24.0, 720, 720, (Segment(4.0 + i, 12.0 + i, "act"),)) for i in range(2)
    ]
    gap = 1.0 / 12
    tmins = gap * np.arange(12)
    tem = {
        v.name: np.concatenate([rng.uniform(size=(12, 3)), tmins[:, None], (tmins + gap)[:, None]], axis=1)
        for v in videos
    }
    settings = {**PGM_DEFAULTS, "top_k_train": 20, "top_k_test": 20}
    generate_proposals(tem, [("train", videos, True)], tmp_dir, temporal_scale=12, settings=settings)
    return {"split": "train", "root": str(tmp_dir), "pipeline": [], "test_mode": False, "top_k": 20}
