"""TPN-TSM (Yang et al., 2020): a TSM ResNet, the temporal pyramid neck on its last two stages, and a
clip-level classifier; training adds the neck's auxiliary loss.

Composition: this plugin's ``resnet_tsm_stages`` backbone (action-tsm's ``resnet_tsm``, returning ``layer3``
and ``layer4`` as clip tensors) + its ``tpn`` neck + core's ``i3d_head`` (MMAction2's ``TPNHead`` is the same
computation) in core's ``Recognizer2D``, whose ``loss`` adds the neck's ``aux_loss(target)`` in training.
The builder is ``compose_model`` of :func:`tpn_tsm_r50_parts` (registered as the model's ``expand``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from action_core.api import Recognizer2D, WeightsInfo, compose_model, mmaction2_weights
from action_tsn.models import Weights, classification_loss, with_weights

from .backbones import stage_channels

__all__ = ["TPN_WEIGHTS", "tpn_tsm_r50", "tpn_tsm_r50_parts", "tpn_tsm_resnet", "tpn_tsm_resnet_parts"]

_OUT_INDICES = (2, 3)  # layer3 and layer4 feed the pyramid

#: MMAction2 1.x TPN-TSM checkpoint whose layout :func:`tpn_tsm_r50` reproduces (metrics as published).
TPN_WEIGHTS: dict[str, WeightsInfo] = {
    w.name: w
    for w in (
        mmaction2_weights(
            "tpn",
            "tpn-tsm_imagenet-pretrained-r50_8xb8-1x1x8-150e_sthv1-rgb",
            "20230221-940a3615",
            converter="tpn_from_mmaction",
            dataset="sthv1",
            metrics={"top1": 51.87, "top5": 79.67},
            num_params=82_445_724,
            num_classes=174,
            num_segments=8,
        ),
    )
}


def tpn_tsm_resnet_parts(
    depth: int,
    *,
    num_classes: int = 174,
    num_segments: int = 8,
    pretrained: bool | str = False,
    weights: Weights = None,
    weights_backbone_only: bool = False,
    shift_div: int = 8,
    norm_eval: bool = False,
    neck_args: Mapping[str, Any] | None = None,
    aux_head: bool = True,
    aux_loss_weight: float = 0.5,
    dropout_ratio: float = 0.5,
    init_std: float = 0.01,
    label_smoothing: float = 0.0,
    multi_label: bool = False,
) -> dict[str, Any]:
    """The composed description of TPN on a TSM ResNet-``depth`` (arguments as :func:`tpn_tsm_resnet`)."""
    neck = {"type": "tpn", **dict(neck_args or {}), "in_channels": list(stage_channels(depth, _OUT_INDICES))}
    neck.setdefault("aux_classes", num_classes if aux_head else None)
    neck.setdefault("aux_loss_weight", aux_loss_weight)
    return with_weights(
        {
            "type": "Recognizer2D",
            "num_segments": num_segments,
            "backbone": {
                "type": "resnet_tsm_stages",
                "depth": depth,
                "pretrained": pretrained,
                "num_segments": num_segments,
                "shift_div": shift_div,
                "norm_eval": norm_eval,
                "out_indices": list(_OUT_INDICES),
            },
            "neck": neck,
            "head": {
                "type": "i3d_head",
                "num_classes": num_classes,
                "in_channels": neck.get("out_channels", 2048),
                "dropout_ratio": dropout_ratio,
                "init_std": init_std,
                "loss": classification_loss(multi_label=multi_label, label_smoothing=label_smoothing),
            },
        },
        weights,
        weights_backbone_only,
    )


def tpn_tsm_resnet(depth: int, **kwargs: Any) -> Recognizer2D:
    """TPN on a TSM ResNet-``depth`` (``layer3`` and ``layer4`` feed the pyramid).

    Input (N, num_segments, 3, H, W). Keyword arguments: ``num_classes`` (174), ``num_segments`` (8),
    ``pretrained`` (the backbone from torchvision ImageNet weights; MMAction2's config:
    ``torchvision://resnet50``), ``weights`` (a checkpoint: catalogue name, path or URL; MMAction2's or
    ours), ``weights_backbone_only``, ``shift_div`` (8), ``norm_eval``, ``neck_args`` (overrides of
    :class:`~action_tpn.necks.TPN`'s arguments; its ``in_channels`` come from the backbone), ``aux_head``
    (True: the auxiliary classifier, training only, weight ``aux_loss_weight`` = 0.5), ``dropout_ratio``
    (0.5), ``init_std`` (0.01), ``label_smoothing``, ``multi_label``. Defaults are MMAction2's TPN-TSM-R50
    Something-Something V1 config.
    """
    return compose_model(tpn_tsm_resnet_parts(depth, **kwargs))


def tpn_tsm_r50_parts(**kwargs: Any) -> dict[str, Any]:
    """The composed description of :func:`tpn_tsm_r50`."""
    return tpn_tsm_resnet_parts(50, **kwargs)


def tpn_tsm_r50(**kwargs: Any) -> Recognizer2D:
    """TPN on a TSM ResNet-50: MMAction2's ``tpn-tsm_imagenet-pretrained-r50_8xb8-1x1x8-150e_sthv1-rgb``
    model (82,445,724 parameters with 174 classes). Keyword arguments as :func:`tpn_tsm_resnet`."""
    return compose_model(tpn_tsm_r50_parts(**kwargs))
