"""TPN-TSM (Yang et al., 2020): a TSM ResNet, the temporal pyramid neck on its last two stages, and a
clip-level classifier; training adds the neck's auxiliary loss.

Composition: :func:`action_tpn.backbones.resnet_tsm_stages` (action-tsm's ``resnet_tsm``, returning
``layer3`` and ``layer4`` as clip tensors) + :func:`action_tpn.necks.tpn` + :func:`action_tpn.heads.tpn_head`
in :class:`TPNRecognizer2D`, which is core's ``Recognizer2D`` with the auxiliary loss added to ``loss``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from action_core.api import BCELossWithLogits, Recognizer2D, WeightsInfo, mmaction2_weights
from action_tsn.models import load_weights

from .backbones import resnet_tsm_stages
from .convert import from_mmaction
from .heads import tpn_head
from .necks import tpn

__all__ = ["TPN_WEIGHTS", "TPNRecognizer2D", "tpn_tsm_r50", "tpn_tsm_resnet"]

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


class TPNRecognizer2D(Recognizer2D):
    """Core's :class:`~action_core.models.Recognizer2D` whose :meth:`loss` also adds the neck's auxiliary
    loss (MMAction2's ``loss_aux``, summed with the classification loss as MMAction2 does).

    The trainer calls ``loss(logits, target)`` right after the training forward; the neck keeps its
    auxiliary logits from that forward (``neck.aux_logits``) and ``neck.aux_loss(target)`` consumes them.
    Any neck without ``aux_loss`` (or eval mode, where no auxiliary logits are made) leaves the loss as
    core computes it.
    """

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Head loss plus the neck's auxiliary loss of the last training forward, if any."""
        loss = super().loss(logits, target)
        aux_loss = getattr(self.neck, "aux_loss", None)
        aux = aux_loss(target) if callable(aux_loss) else None
        return loss if aux is None else loss + aux


def tpn_tsm_resnet(
    depth: int,
    *,
    num_classes: int = 174,
    num_segments: int = 8,
    pretrained: bool | str = False,
    weights: str | Path | WeightsInfo | None = None,
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
    progress: bool = False,
) -> TPNRecognizer2D:
    """TPN on a TSM ResNet-``depth`` (``layer3`` and ``layer4`` feed the pyramid).

    Input (N, num_segments, 3, H, W). ``neck_args`` override :class:`~action_tpn.necks.TPN` arguments
    (its ``in_channels`` come from the backbone); ``aux_head`` adds the auxiliary classifier (training only,
    weight ``aux_loss_weight``). ``pretrained`` initialises the backbone from torchvision ImageNet weights
    (MMAction2's config: ``torchvision://resnet50``); ``weights`` loads a checkpoint (catalogue name, path;
    MMAction2 or ours). Defaults are MMAction2's TPN-TSM-R50 Something-Something V1 config.
    """
    backbone = resnet_tsm_stages(
        depth=depth,
        pretrained=pretrained,
        num_segments=num_segments,
        shift_div=shift_div,
        norm_eval=norm_eval,
        out_indices=(2, 3),
    )
    neck_kwargs = dict(neck_args or {})
    neck_kwargs["in_channels"] = backbone.out_channels
    neck_kwargs.setdefault("aux_classes", num_classes if aux_head else None)
    neck_kwargs.setdefault("aux_loss_weight", aux_loss_weight)
    neck = tpn(**neck_kwargs)
    head = tpn_head(
        num_classes=num_classes,
        in_channels=neck.out_channels,
        dropout_ratio=dropout_ratio,
        init_std=init_std,
        loss=BCELossWithLogits() if multi_label else None,
        label_smoothing=label_smoothing,
    )
    model = TPNRecognizer2D(backbone, head, neck=neck)
    model.num_segments = num_segments
    model.weights_info = None
    if weights is not None:
        model.weights_info = load_weights(
            model,
            weights,
            TPN_WEIGHTS,
            convert=from_mmaction,
            backbone_only=weights_backbone_only,
            progress=progress,
        )
    return model


def tpn_tsm_r50(**kwargs: Any) -> TPNRecognizer2D:
    """TPN on a TSM ResNet-50: MMAction2's ``tpn-tsm_imagenet-pretrained-r50_8xb8-1x1x8-150e_sthv1-rgb``
    model (82,445,724 parameters with 174 classes). Keyword arguments as :func:`tpn_tsm_resnet`."""
    return tpn_tsm_resnet(50, **kwargs)
