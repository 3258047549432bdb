"""TSN (Wang et al., 2016): a 2D ResNet on every segment, average consensus, dropout and a linear classifier.

Builders follow torchvision's style: keyword-only, ``num_classes``, ``pretrained`` (ImageNet backbone),
``weights`` (a published MMAction2 checkpoint by name, or a local checkpoint path).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from action_core.api import (
    BCELossWithLogits,
    Recognizer2D,
    TSNHead,
    WeightsInfo,
    load_converted,
    mmaction2_weights,
)

from .backbones import resnet2d
from .convert import from_mmaction, is_mmaction_state_dict, read_checkpoint

__all__ = ["TSN_WEIGHTS", "load_weights", "tsn_r18", "tsn_r34", "tsn_r50", "tsn_r101", "tsn_resnet"]


def _mm_weights(
    config: str,
    stamp: str,
    depth: int,
    segs: int,
    dataset: str,
    classes: int,
    top1: float,
    top5: float,
    params: int,
) -> WeightsInfo:
    return mmaction2_weights(
        "tsn",
        config,
        stamp,
        converter="tsn_from_mmaction",
        dataset=dataset,
        metrics={"top1": top1, "top5": top5},
        num_params=params,
        depth=depth,
        num_classes=classes,
        num_segments=segs,
    )


#: MMAction2 1.x TSN checkpoints whose layout these builders reproduce (metrics as published by MMAction2).
TSN_WEIGHTS: dict[str, WeightsInfo] = {
    w.name: w
    for w in (
        _mm_weights(
            "tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb",
            "20220906-cd10898e",
            50,
            3,
            "kinetics400",
            400,
            72.83,
            90.65,
            24_327_632,
        ),
        _mm_weights(
            "tsn_imagenet-pretrained-r50_8xb32-1x1x5-100e_kinetics400-rgb",
            "20220906-65d68713",
            50,
            5,
            "kinetics400",
            400,
            73.80,
            91.21,
            24_327_632,
        ),
        _mm_weights(
            "tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb",
            "20220906-2692d16c",
            50,
            8,
            "kinetics400",
            400,
            74.12,
            91.34,
            24_327_632,
        ),
        _mm_weights(
            "tsn_imagenet-pretrained-r101_8xb32-1x1x8-100e_kinetics400-rgb",
            "20220906-23cff032",
            101,
            8,
            "kinetics400",
            400,
            75.89,
            92.07,
            43_319_760,
        ),
        _mm_weights(
            "tsn_imagenet-pretrained-r50_8xb32-1x1x8-50e_sthv2-rgb",
            "20230313-06ad7d03",
            50,
            8,
            "sthv2",
            174,
            35.51,
            67.09,
            23_864_558,
        ),
        _mm_weights(
            "tsn_imagenet-pretrained-r50_8xb32-1x1x16-50e_sthv2-rgb",
            "20230221-85bcc1c3",
            50,
            16,
            "sthv2",
            174,
            36.91,
            68.77,
            23_864_558,
        ),
    )
}


def load_weights(
    model: nn.Module,
    weights: str | Path | WeightsInfo | Mapping[str, Any],
    catalogue: Mapping[str, WeightsInfo],
    *,
    convert: Callable[[Mapping[str, Any]], tuple[dict[str, torch.Tensor], tuple[str, ...]]] = from_mmaction,
    backbone_only: bool = False,
    progress: bool = False,
) -> WeightsInfo | None:
    """Load ``weights`` into ``model``: a catalogue name / :class:`WeightsInfo` (downloaded into the torch
    hub cache), a local checkpoint path, or a loaded checkpoint; MMAction2 key names (mapped with
    ``convert``) or ours. Strict: any key mismatch raises ``CheckpointMismatchError``.

    ``backbone_only`` loads just the backbone (fine-tuning on another label set); the checkpoint's head is
    deliberately discarded and the model keeps its freshly initialised head."""
    info: WeightsInfo | None = None
    if isinstance(weights, WeightsInfo):
        info = weights
    elif isinstance(weights, str) and weights in catalogue:
        info = catalogue[weights]
    if info is not None:
        cached = Path(torch.hub.get_dir()) / "checkpoints" / info.url.rsplit("/", 1)[-1]
        if not cached.is_file():
            cached.parent.mkdir(parents=True, exist_ok=True)
            try:
                torch.hub.download_url_to_file(info.url, str(cached), progress=progress)
            except OSError as e:
                raise RuntimeError(
                    f"could not download weights {info.name} from {info.url} ({e}); when offline, put the "
                    f"file at {cached} or pass weights='/path/to/checkpoint.pth'"
                ) from e
        ckpt, source = str(cached), info.url
    elif isinstance(weights, Mapping):
        ckpt, source = weights, "checkpoint dict"
    else:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(
                f"weights {str(weights)!r} is neither a known checkpoint ({', '.join(sorted(catalogue))}) "
                "nor an existing file"
            )
        ckpt, source = weights, str(path)
    state = read_checkpoint(ckpt)
    if is_mmaction_state_dict(state):
        state, unconverted = convert(state)
    else:
        unconverted = ()
    if backbone_only:
        prefix = "backbone."
        state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        load_converted(
            model.backbone, state, unconverted=unconverted, strict=True, source=f"{source} (backbone)"
        )
    else:
        load_converted(model, state, unconverted=unconverted, strict=True, source=source)
    return info


def tsn_resnet(
    depth: int,
    *,
    num_classes: int = 400,
    num_segments: int = 3,
    pretrained: bool | str = False,
    weights: str | Path | WeightsInfo | None = None,
    weights_backbone_only: bool = False,
    dropout_ratio: float = 0.4,
    init_std: float = 0.01,
    label_smoothing: float = 0.0,
    multi_label: bool = False,
    norm_eval: bool = False,
    frozen_stages: int = -1,
    progress: bool = False,
) -> Recognizer2D:
    """TSN with a torchvision ResNet-``depth`` backbone and MMAction2's ``TSNHead``.

    ``num_segments`` does not change the weights (TSN averages any number of segments); it is recorded
    on the model for configs and exporters. ``pretrained`` initialises the backbone from ImageNet
    (True = torchvision ``IMAGENET1K_V1``; or a weights name / file path); ``weights`` loads a full
    checkpoint afterwards (only its backbone with ``weights_backbone_only``, for fine-tuning on other
    classes). ``multi_label`` switches the loss to sigmoid BCE.
    """
    backbone = resnet2d(depth=depth, pretrained=pretrained, norm_eval=norm_eval, frozen_stages=frozen_stages)
    head = TSNHead(
        num_classes,
        backbone.out_channels,
        dropout_ratio=dropout_ratio,
        init_std=init_std,
        loss=BCELossWithLogits() if multi_label else None,
        label_smoothing=label_smoothing,
    )
    model = Recognizer2D(backbone, head)
    model.num_segments = num_segments
    model.weights_info = None
    if weights is not None:
        model.weights_info = load_weights(
            model, weights, TSN_WEIGHTS, backbone_only=weights_backbone_only, progress=progress
        )
    return model


def tsn_r18(**kwargs: Any) -> Recognizer2D:
    """TSN, ResNet-18 backbone (keyword arguments as :func:`tsn_resnet`)."""
    return tsn_resnet(18, **kwargs)


def tsn_r34(**kwargs: Any) -> Recognizer2D:
    """TSN, ResNet-34 backbone (keyword arguments as :func:`tsn_resnet`)."""
    return tsn_resnet(34, **kwargs)


def tsn_r50(**kwargs: Any) -> Recognizer2D:
    """TSN, ResNet-50 backbone (keyword arguments as :func:`tsn_resnet`)."""
    return tsn_resnet(50, **kwargs)


def tsn_r101(**kwargs: Any) -> Recognizer2D:
    """TSN, ResNet-101 backbone (keyword arguments as :func:`tsn_resnet`)."""
    return tsn_resnet(101, **kwargs)
