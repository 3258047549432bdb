"""Metrics for classification (top-k, mean class accuracy, confusion matrix, multi-label mAP) and
temporal localization (ActivityNet AR@AN / AUC, ActivityNet and THUMOS14 detection mAP)."""

from action_core.evaluation.classification import (
    average_precision,
    confusion_matrix,
    mean_average_precision,
    mean_class_accuracy,
    top_k_accuracy,
)
from action_core.evaluation.localization import (
    ACTIVITYNET_TIOU_THRESHOLDS,
    THUMOS14_TIOU_THRESHOLDS,
    ActivityNetDetectionMetric,
    ActivityNetProposalMetric,
    DetectionResult,
    ProposalResult,
    Thumos14DetectionMetric,
    average_recall_at_avg_proposals,
    detection_average_precision,
    interpolated_average_precision,
    thumos14_detection_map,
)
from action_core.evaluation.metric import AccMetric, ConfusionMatrix, MeanClassAccuracy, Metric, MultiLabelMAP

__all__ = [
    "ACTIVITYNET_TIOU_THRESHOLDS",
    "THUMOS14_TIOU_THRESHOLDS",
    "AccMetric",
    "ActivityNetDetectionMetric",
    "ActivityNetProposalMetric",
    "ConfusionMatrix",
    "DetectionResult",
    "MeanClassAccuracy",
    "Metric",
    "MultiLabelMAP",
    "ProposalResult",
    "Thumos14DetectionMetric",
    "average_precision",
    "average_recall_at_avg_proposals",
    "confusion_matrix",
    "detection_average_precision",
    "interpolated_average_precision",
    "mean_average_precision",
    "mean_class_accuracy",
    "thumos14_detection_map",
    "top_k_accuracy",
]
