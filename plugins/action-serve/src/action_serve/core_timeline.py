"""Core's long-video timeline, reached until ``action_core.api`` exports it.

The timeline (sliding windows through the Inferencer, smoothing, segments, the ``action-timeline/1``
document, its plot and the labelled video) is core's :mod:`action_core.apps.timeline`; ``action-run
timeline`` runs it. ``action_core.api`` does not export it yet, so this module is the one place where
action-serve imports from core past ``action_core.api``; it takes the public names as soon as the API has
them. Nothing here computes a timeline of its own.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["timeline_functions", "timeline_inferencer"]

NAMES = ("make_timeline", "write_timeline_video", "auto_views")


def timeline_functions() -> ModuleType | Any:
    """An object with core's ``make_timeline``, ``write_timeline_video`` and ``auto_views``: ``action_core.api``
    when it exports them, else their module."""
    api = importlib.import_module("action_core.api")
    if all(name in getattr(api, "__all__", ()) for name in NAMES):
        return api
    return importlib.import_module("action_core.apps.timeline")


def timeline_inferencer(inferencer: Any) -> Any:
    """The inferencer the timeline runs with, chosen as ``action-run timeline`` does: a clip model whose
    test pipeline spreads several clips over a video predicts one clip per window (the same model,
    shared); an inferencer with views set explicitly is used as it is."""
    if inferencer.views is not None:
        return inferencer
    views = timeline_functions().auto_views(inferencer.pipeline_steps)
    return inferencer.with_views(views) if views is not None else inferencer
