"""The public API of action-core: everything plugins and users import, in one place.

Plugins import from ``action_core`` (the hook markers, for their registration module) and from
``action_core.api`` (everything else); every other module of the package is internal and may change
between releases. Names are imported on first use, so ``import action_core.api`` stays cheap.

Groups: the plugin contract (hooks, typed registration fields, a scoped plugin host for tests), errors,
building registered components (and composing models from parts), models and their weights, the model step
protocol and the localizer base, checkpoints and training, inference (the Inferencer and its result
types; batch prediction, long-video timelines and live streams built on it), data (records, lists,
pipelines, datasets, localization samples), dataset adapters (prepare, presets, samples), localization,
tools (FLOPs, export) and video reading (random access, and sequential streams of files, cameras and
network sources).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_NAMES: dict[str, str] = {
    # the plugin contract
    "hookimpl": "action_core.plugins.hookspecs",
    "hookspec": "action_core.plugins.hookspecs",
    "PLUGIN_API_VERSION": "action_core.plugins.hookspecs",
    "Register": "action_core.plugins.hookspecs",
    "RunState": "action_core.plugins.hookspecs",
    "ALL_HOOKS": "action_core.plugins.hookspecs",
    "ComponentSpec": "action_core.plugins.specs",
    "ModelSpec": "action_core.plugins.specs",
    "BackboneSpec": "action_core.plugins.specs",
    "NeckSpec": "action_core.plugins.specs",
    "HeadSpec": "action_core.plugins.specs",
    "LossSpec": "action_core.plugins.specs",
    "DatasetSpec": "action_core.plugins.specs",
    "TransformSpec": "action_core.plugins.specs",
    "MetricSpec": "action_core.plugins.specs",
    "PresetSpec": "action_core.plugins.specs",
    "ConverterSpec": "action_core.plugins.specs",
    "CommandSpec": "action_core.plugins.specs",
    "PluginHost": "action_core.plugins.host",
    "PluginInfo": "action_core.plugins.host",
    "plugin_host": "action_core.plugins.host",
    "get_host": "action_core.plugins.host",
    "get_registry": "action_core.plugins.host",
    "load_plugin": "action_core.plugins.host",
    "check_api_version": "action_core.plugins.host",
    "check_core_requirement": "action_core.plugins.host",
    "unknown_hooks": "action_core.plugins.host",
    "Entry": "action_core.registry",
    "import_target": "action_core.registry",
    # errors
    "ActionError": "action_core.errors",
    "ConfigError": "action_core.errors",
    "PluginError": "action_core.errors",
    "RegistryError": "action_core.errors",
    "MediaError": "action_core.video.errors",
    "VideoDecodeError": "action_core.video.errors",
    "AnnotationError": "action_core.data.lists",
    "SampleError": "action_core.data.datasets",
    "UnsafeArchiveError": "action_core.datasets.archive",
    "NotPreparedError": "action_core.datasets.building",
    "CheckpointError": "action_core.engine.checkpoint",
    "CheckpointMismatchError": "action_core.models.checkpoints",
    "WeightsError": "action_core.models.loading",
    # building registered components
    "build": "action_core",
    "build_model": "action_core",
    "build_dataset": "action_core",
    # models and weights
    "Recognizer2D": "action_core.models.recognizers",
    "Recognizer3D": "action_core.models.recognizers",
    "ClsHead": "action_core.models.heads",
    "TSNHead": "action_core.models.heads",
    "TSMHead": "action_core.models.heads",
    "I3DHead": "action_core.models.heads",
    "tsn_head": "action_core.models.heads",
    "tsm_head": "action_core.models.heads",
    "i3d_head": "action_core.models.heads",
    "CrossEntropyLoss": "action_core.models.losses",
    "BCELossWithLogits": "action_core.models.losses",
    "average_views": "action_core.models.views",
    "WeightsInfo": "action_core.models.weights",
    "mmaction2_weights": "action_core.models.weights",
    "count_parameters": "action_core.models.weights",
    "ConversionReport": "action_core.models.checkpoints",
    "extract_state_dict": "action_core.models.checkpoints",
    "rename_keys": "action_core.models.checkpoints",
    "load_converted": "action_core.models.checkpoints",
    "load_weights": "action_core.models.loading",
    "compose_model": "action_core.models.compose",
    "expand_model": "action_core.models.compose",
    "PART_KINDS": "action_core.models.compose",
    "recognizer2d": "action_core.models.recognizers",
    "recognizer3d": "action_core.models.recognizers",
    "read_checkpoint": "action_core.models.loading",
    # the model step protocol and localizers
    "StepModel": "action_core.models.steps",
    "model_task": "action_core.models.steps",
    "float32_losses": "action_core.models.steps",
    "recognition_training_step": "action_core.models.steps",
    "recognition_predict_step": "action_core.models.steps",
    "fold_views": "action_core.models.views",
    "BaseLocalizer": "action_core.models.localizers",
    "binary_logistic_regression_loss": "action_core.models.localizers",
    "temporal_anchors": "action_core.models.localizers",
    "temporal_iop": "action_core.models.localizers",
    "temporal_iou_1d": "action_core.models.localizers",
    "find_published_weights": "action_core.models.loading",
    # checkpoints, configs and training
    "load_checkpoint": "action_core.engine.checkpoint",
    "save_checkpoint": "action_core.engine.checkpoint",
    "Trainer": "action_core.engine.trainer",
    "evaluate": "action_core.engine.inference",
    "predict_per_video": "action_core.engine.inference",
    "make_eval_loader": "action_core.engine.inference",
    # inference: one API for predict, batch prediction, timelines, live streams and servers
    "Inferencer": "action_core.engine.inferencer",
    "Prediction": "action_core.engine.inferencer",
    "ClassScore": "action_core.engine.inferencer",
    "Skipped": "action_core.engine.inferencer",
    "FrameWindow": "action_core.engine.inferencer",
    # speed: precision / memory format per device, the inference fast path
    "choose_speed": "action_core.hardware",
    "SpeedSettings": "action_core.hardware",
    "inference_model": "action_core.engine.fastpath",
    "fold_batchnorm": "action_core.models.fuse",
    "FoldError": "action_core.models.fuse",
    # applications of the Inferencer: batch prediction, long-video timelines, live streams
    "predict_batch": "action_core.apps.batch",
    "collect_videos": "action_core.apps.batch",
    "BatchSummary": "action_core.apps.batch",
    "make_timeline": "action_core.apps.timeline",
    "Timeline": "action_core.apps.timeline",
    "TimelineSegment": "action_core.apps.timeline",
    "write_timeline_video": "action_core.apps.timeline",
    "auto_views": "action_core.apps.timeline",
    "default_window": "action_core.apps.timeline",
    "sliding_windows": "action_core.apps.timeline",
    "smooth_scores": "action_core.apps.timeline",
    "find_segments": "action_core.apps.timeline",
    "parse_span": "action_core.apps.timeline",
    "parse_thresholds": "action_core.apps.timeline",
    "run_live": "action_core.apps.live",
    "LiveSummary": "action_core.apps.live",
    "load_experiment": "action_core.engine.commands",
    "default_work_dir": "action_core.engine.commands",
    "run_train": "action_core.engine.commands",
    "run_test": "action_core.engine.commands",
    "plugin_callbacks": "action_core.engine.commands",
    "experiment_of_checkpoint": "action_core.engine.commands",
    "build_model_from_config": "action_core.engine.builders",
    "views_pipeline": "action_core.engine.inference",
    "without_downloads": "action_core.models.compose",
    "dist_info": "action_core.engine.distributed",
    "barrier": "action_core.engine.distributed",
    "build_dataset_from_config": "action_core.engine.builders",
    "build_metrics": "action_core.engine.builders",
    "ExperimentConfig": "action_core.engine.schema",
    "load_config": "action_core.config",
    "load_preset": "action_core.config",
    "load_source": "action_core.config",
    "structure": "action_core.config",
    # data
    "VideoRecord": "action_core.data.records",
    "RawframeRecord": "action_core.data.records",
    "VideoDataset": "action_core.data.datasets",
    "RawframeDataset": "action_core.data.datasets",
    "parse_video_list": "action_core.data.lists",
    "parse_rawframe_list": "action_core.data.lists",
    "parse_slowfast_list": "action_core.data.lists",
    "build_pipeline": "action_core.data.pipeline",
    "build_dataloader": "action_core.data.loader",
    # localization samples (per-video features)
    "Segment": "action_core.data.localization",
    "VideoInfo": "action_core.data.localization",
    "LocalizationFeatureDataset": "action_core.data.localization",
    "collate_localization": "action_core.data.localization",
    "check_localization_pipeline": "action_core.data.localization",
    "class_names": "action_core.data.localization",
    "gt_bbox_of": "action_core.data.localization",
    "find_feature_file": "action_core.data.localization",
    "load_features": "action_core.data.localization",
    "rescale_features": "action_core.data.localization",
    "FEATURE_EXTENSIONS": "action_core.data.localization",
    "MMACTION2_LOCALIZATION_STEPS": "action_core.data.localization",
    # dataset adapters
    "Sample": "action_core.datasets.samples",
    "class_index": "action_core.datasets.samples",
    "find_dir": "action_core.datasets.samples",
    "find_file": "action_core.datasets.samples",
    "read_class_list": "action_core.datasets.samples",
    "text_rows": "action_core.datasets.samples",
    "recognition_preset": "action_core.datasets.presets",
    "SplitSpec": "action_core.datasets.prepare",
    "add_prepare_arguments": "action_core.datasets.prepare",
    "extract_archives": "action_core.datasets.prepare",
    "run_prepare": "action_core.datasets.prepare",
    "tiny_pipeline": "action_core.datasets.synth",
    "write_video": "action_core.datasets.synth",
    "write_frames": "action_core.datasets.synth",
    # localization
    "bmn_proposals": "action_core.localization.proposals",
    "bsn_proposals": "action_core.localization.proposals",
    "post_process_proposals": "action_core.localization.proposals",
    "strip_video_prefix": "action_core.localization.results_io",
    "write_activitynet_results": "action_core.localization.results_io",
    "average_recall_at_avg_proposals": "action_core.evaluation.localization",
    "read_activitynet_results": "action_core.localization.results_io",
    "thumos14_detection_map": "action_core.evaluation.localization",
    # tools
    "count_flops": "action_core.tools.flops",
    "default_input_shape": "action_core.tools.flops",
    "run_doctor": "action_core.datasets.doctor",
    "keep_freed_memory": "action_core.data.loader",
    "export_model": "action_core.tools.export",
    # video
    "VideoReader": "action_core.video.reader",
    "FrameStream": "action_core.video.stream",
    "StreamFrame": "action_core.video.stream",
    "StreamError": "action_core.video.stream",
}

# Renamed on the way out: the public name and (module, attribute).
_RENAMED: dict[str, tuple[str, str]] = {
    "build_adapter_dataset": ("action_core.datasets.building", "build_dataset"),
    "run_cli": ("action_core.cli.main", "main"),
    "TIMELINE_SCHEMA": ("action_core.apps.timeline", "SCHEMA"),
    "evaluate_checkpoint": ("action_core.engine.inference", "test"),
}

__all__ = sorted([*_NAMES, *_RENAMED])


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    if name in _RENAMED:
        module, attr = _RENAMED[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'action_core.api' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # what type checkers and IDEs see
    pass
