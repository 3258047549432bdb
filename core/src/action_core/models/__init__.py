"""Recognizer base classes, shared heads, losses and helpers for model families.

Model families (TSN, TSM, I3D, ...) live in plugins; they compose these pieces.
"""

from .checkpoints import (
    CheckpointMismatchError,
    ConversionReport,
    extract_state_dict,
    load_converted,
    rename_keys,
)
from .heads import ClsHead, I3DHead, TSMHead, TSNHead, i3d_head, tsm_head, tsn_head
from .losses import BCELossWithLogits, CrossEntropyLoss
from .recognizers import Recognizer2D, Recognizer3D
from .views import average_views, fold_views
from .weights import WeightsInfo, count_parameters

__all__ = [
    "BCELossWithLogits",
    "CheckpointMismatchError",
    "ClsHead",
    "ConversionReport",
    "CrossEntropyLoss",
    "I3DHead",
    "Recognizer2D",
    "Recognizer3D",
    "TSMHead",
    "TSNHead",
    "WeightsInfo",
    "average_views",
    "count_parameters",
    "extract_state_dict",
    "fold_views",
    "i3d_head",
    "load_converted",
    "rename_keys",
    "tsm_head",
    "tsn_head",
]
