"""Core's own components, registered through the same hooks a plugin uses."""

from __future__ import annotations

from action_core.plugins.hookspecs import PLUGIN_API_VERSION, Register, hookimpl

ACTION_PLUGIN_API = PLUGIN_API_VERSION


@hookimpl
def action_register_metrics(register: Register) -> None:
    """Classification and localization metrics of :mod:`action_core.evaluation`."""
    ev = "action_core.evaluation"
    register("accuracy", f"{ev}.metric:AccMetric", summary="top-k accuracy (top1, top5)")
    register("mean_class_accuracy", f"{ev}.metric:MeanClassAccuracy", summary="mean per-class accuracy")
    register("multilabel_map", f"{ev}.metric:MultiLabelMAP", summary="mean average precision, multi-label")
    register("confusion_matrix", f"{ev}.metric:ConfusionMatrix", summary="confusion matrix")
    register(
        "activitynet_proposal",
        f"{ev}.localization:ActivityNetProposalMetric",
        summary="ActivityNet proposals: AR@AN and AUC",
    )
    register(
        "activitynet_detection",
        f"{ev}.localization:ActivityNetDetectionMetric",
        summary="ActivityNet detection mAP at tIoU 0.5:0.05:0.95",
    )
    register(
        "thumos14_detection",
        f"{ev}.localization:Thumos14DetectionMetric",
        summary="THUMOS14 detection mAP at tIoU 0.3:0.1:0.7",
    )


@hookimpl
def action_register_transforms(register: Register) -> None:
    """Samplers, the decoder step and video transforms of :mod:`action_core.data`."""
    for name in (
        "SampleFrames",
        "SegmentSampleFrames",
        "DenseSampleFrames",
        "UniformSample",
        "UniformSampleFrames",
    ):
        register(name, f"action_core.data.samplers:{name}", summary="frame sampler (MMAction2 semantics)")
    register("DecodeFrames", "action_core.data.decode:DecodeFrames", summary="decode the sampled frames")
    for name in (
        "Resize",
        "RandomCrop",
        "RandomResizedCrop",
        "MultiScaleCrop",
        "CenterCrop",
        "ThreeCrop",
        "TenCrop",
        "Flip",
        "ColorJitter",
        "Normalize",
        "FormatShape",
    ):
        register(name, f"action_core.data.transforms:{name}", summary="video transform")


@hookimpl
def action_register_datasets(register: Register) -> None:
    """The generic list formats, usable without any dataset plugin."""
    register("video_list", "action_core.data.builders:video_list", summary="MMAction2 video list file")
    register(
        "rawframe_list", "action_core.data.builders:rawframe_list", summary="MMAction2 rawframe list file"
    )
    register(
        "slowfast_list", "action_core.data.builders:slowfast_list", summary="PySlowFast / PyTorchVideo list"
    )
    register(
        "video_folder",
        "action_core.datasets.folder:video_folder",
        summary="your own videos: ROOT/<class>/<video> or a plain list, split by seed when unsplit",
    )


@hookimpl
def action_register_models(register: Register) -> None:
    """The composites: a backbone, an optional neck and a head chosen by name in a config."""
    register(
        "Recognizer2D",
        "action_core.models.recognizers:recognizer2d",
        summary="frame-level recognizer: [model.backbone] + optional [model.neck] + [model.head]",
        input_format="NTCHW",
    )
    register(
        "Recognizer3D",
        "action_core.models.recognizers:recognizer3d",
        summary="clip-level recognizer: [model.backbone] + optional [model.neck] + [model.head]",
        input_format="NCTHW",
    )


@hookimpl
def action_register_heads(register: Register) -> None:
    """Heads shared across model families (:mod:`action_core.models.heads`)."""
    register("tsn_head", "action_core.models.heads:tsn_head", summary="average consensus + dropout + linear")
    register(
        "tsm_head", "action_core.models.heads:tsm_head", summary="TSM head: per-segment linear, averaged"
    )
    register("i3d_head", "action_core.models.heads:i3d_head", summary="spatiotemporal average pool + linear")


@hookimpl
def action_register_losses(register: Register) -> None:
    """Losses of :mod:`action_core.models.losses`."""
    register(
        "cross_entropy", "action_core.models.losses:CrossEntropyLoss", summary="with optional label smoothing"
    )
    register("bce_with_logits", "action_core.models.losses:BCELossWithLogits", summary="multi-label")
