"""Temporal action localization support: tIoU, BMN/BSN proposal post-processing, ActivityNet results files."""

from action_core.localization.proposals import (
    bmn_proposals,
    boundary_candidates,
    bsn_proposals,
    post_process_proposals,
    soft_nms,
)
from action_core.localization.results_io import (
    read_activitynet_ground_truth,
    read_activitynet_results,
    strip_video_prefix,
    write_activitynet_results,
)
from action_core.localization.tiou import as_segments, pairwise_temporal_iou, temporal_iou

__all__ = [
    "as_segments",
    "bmn_proposals",
    "boundary_candidates",
    "bsn_proposals",
    "pairwise_temporal_iou",
    "post_process_proposals",
    "read_activitynet_ground_truth",
    "read_activitynet_results",
    "soft_nms",
    "strip_video_prefix",
    "temporal_iou",
    "write_activitynet_results",
]
