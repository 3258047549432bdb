"""SlowFast (Feichtenhofer et al. 2019) in MMAction2's ResNet-50 form.

A slow pathway sees every tau-th frame at full width; a fast pathway sees alpha times more frames at 1/beta of
the width (alpha = ``speed_ratio``, 1/beta = ``channel_ratio``). After the stem and stages 1-3, a time-strided
``fusion_kernel``x1x1 convolution maps the fast features onto the slow frame rate (doubling their width) and they
are concatenated to the slow features. The head pools both pathways and classifies their concatenation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from action_core.api import ClsHead, Recognizer3D, WeightsInfo, compose_model
from action_resnet3d import ConvBNAct, ResNet3d, feature_width
from action_resnet3d.inflate import inflate_resnet2d_weights, load_resnet2d_state_dict

WeightsSource = WeightsInfo | str | os.PathLike[str] | Mapping[str, Any]


def lateral_inplanes(
    depth: int, *, base_channels: int = 64, num_stages: int = 4, lateral_infl: int = 2, channel_ratio: int = 8
) -> list[int]:
    """Channels each slow stage receives from the fast pathway: ``lateral_infl`` times the fast width there.

    The fast width entering stage i is the slow width there divided by ``channel_ratio`` (stem width for
    stage 1, the previous stage's output width after).
    """
    expansion = 1 if depth < 50 else 4
    widths = [base_channels] + [base_channels * 2**i * expansion for i in range(num_stages - 1)]
    return [w * lateral_infl // channel_ratio for w in widths]


class ResNet3dPathway(ResNet3d):
    """A ``ResNet3d`` that can take lateral inputs: with ``lateral=True`` it owns the fusion convolutions
    ``conv1_lateral`` and ``layer{i}_lateral`` (i = 1..num_stages-1) applied to the other pathway's features."""

    def __init__(
        self,
        depth: int = 50,
        *,
        lateral: bool = False,
        lateral_norm: bool = False,
        speed_ratio: int = 8,
        channel_ratio: int = 8,
        fusion_kernel: int = 5,
        lateral_infl: int = 2,
        **kwargs: object,
    ) -> None:
        base = int(kwargs.get("base_channels", 64))  # type: ignore[arg-type]
        stages = int(kwargs.get("num_stages", 4))  # type: ignore[arg-type]
        extra = (
            lateral_inplanes(
                depth,
                base_channels=base,
                num_stages=stages,
                lateral_infl=lateral_infl,
                channel_ratio=channel_ratio,
            )
            if lateral
            else None
        )
        self.lateral = lateral
        super().__init__(depth, lateral_inplanes=extra, **kwargs)  # type: ignore[arg-type]
        self.lateral_connections: list[str] = []
        if not lateral:
            return

        def fusion(width: int) -> ConvBNAct:
            return ConvBNAct(
                width // channel_ratio,
                width * lateral_infl // channel_ratio,
                (fusion_kernel, 1, 1),
                stride=(speed_ratio, 1, 1),
                padding=((fusion_kernel - 1) // 2, 0, 0),
                norm=lateral_norm,
                act=lateral_norm,
                bias=False,
            )

        self.conv1_lateral = fusion(base)
        for i in range(stages - 1):
            name = f"layer{i + 1}_lateral"
            setattr(self, name, fusion(base * 2**i * self.block.expansion))
            self.lateral_connections.append(name)
        for name in ["conv1_lateral", *self.lateral_connections]:
            for module in getattr(self, name).modules():
                if isinstance(module, nn.Conv3d):
                    nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        super()._freeze_stages()
        for i in range(1, self.frozen_stages + 1):
            if self.lateral and i < self.num_stages and hasattr(self, f"layer{i}_lateral"):
                lateral = getattr(self, f"layer{i}_lateral")
                lateral.eval()
                for param in lateral.parameters():
                    param.requires_grad = False


class ResNet3dSlowFast(nn.Module):
    """Two-pathway backbone; input (N, C, T, H, W), output ``(slow_features, fast_features)``.

    The slow pathway takes every ``resample_rate``-th frame, the fast one every
    ``resample_rate // speed_ratio``-th (nearest-neighbour temporal resampling, as MMAction2).
    """

    def __init__(
        self,
        slow_path: ResNet3dPathway,
        fast_path: ResNet3dPathway,
        *,
        resample_rate: int = 8,
        speed_ratio: int = 8,
    ) -> None:
        super().__init__()
        if resample_rate % speed_ratio:
            raise ValueError(
                f"resample_rate ({resample_rate}) must be a multiple of speed_ratio ({speed_ratio}) so the fast "
                "pathway samples whole frames"
            )
        if len(slow_path.res_layers) != len(fast_path.res_layers):
            raise ValueError("slow and fast pathways need the same number of stages")
        self.slow_path = slow_path
        self.fast_path = fast_path
        self.resample_rate = resample_rate
        self.speed_ratio = speed_ratio
        self.feat_dim = slow_path.feat_dim + fast_path.feat_dim

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Slow and fast stage-4 features of an (N, C, T, H, W) clip."""
        slow = F.interpolate(x, mode="nearest", scale_factor=(1.0 / self.resample_rate, 1.0, 1.0))
        fast = F.interpolate(
            x, mode="nearest", scale_factor=(1.0 / (self.resample_rate // self.speed_ratio), 1.0, 1.0)
        )
        slow = self.slow_path.forward_stem(slow)
        fast = self.fast_path.forward_stem(fast)
        lateral = self.slow_path.lateral
        if lateral:
            slow = torch.cat((slow, self.slow_path.conv1_lateral(fast)), dim=1)
        last = len(self.slow_path.res_layers) - 1
        for i, name in enumerate(self.slow_path.res_layers):
            slow = getattr(self.slow_path, name)(slow)
            fast = getattr(self.fast_path, name)(fast)
            if lateral and i != last:
                fused = getattr(self.slow_path, self.slow_path.lateral_connections[i])(fast)
                slow = torch.cat((slow, fused), dim=1)
        return slow, fast

    def train(self, mode: bool = True) -> ResNet3dSlowFast:
        """Propagate train/eval to both pathways (which keep their frozen parts in eval mode)."""
        super().train(mode)
        self.slow_path.train(mode)
        self.fast_path.train(mode)
        return self


class SlowFastHead(ClsHead):
    """SlowFast head: average-pool each pathway, concatenate (fast first, as MMAction2), dropout, linear."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        *,
        dropout_ratio: float = 0.8,
        init_std: float = 0.01,
        loss: nn.Module | None = None,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(
            num_classes,
            in_channels,
            dropout_ratio=dropout_ratio,
            init_std=init_std,
            loss=loss,
            label_smoothing=label_smoothing,
        )
        self.avg_pool = nn.AdaptiveAvgPool3d(1)

    def forward(self, x: Sequence[torch.Tensor], num_segs: int | None = None) -> torch.Tensor:
        """Logits (N, num_classes) from ``(slow, fast)`` features; ``num_segs`` is ignored."""
        slow, fast = x
        feats = torch.cat((self.avg_pool(fast), self.avg_pool(slow)), dim=1).flatten(1)
        if self.dropout is not None:
            feats = self.dropout(feats)
        return self.fc_cls(feats)


def _pathway_configs(
    *,
    speed_ratio: int,
    channel_ratio: int,
    fusion_kernel: int,
    lateral_norm: bool,
    slow_kwargs: dict | None,
    fast_kwargs: dict | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``ResNet3dPathway`` arguments of the slow and the fast pathway in MMAction2's configuration."""
    slow_cfg: dict[str, Any] = {
        "lateral": True,
        "speed_ratio": speed_ratio,
        "channel_ratio": channel_ratio,
        "fusion_kernel": fusion_kernel,
        "lateral_norm": lateral_norm,
        "conv1_kernel": (1, 7, 7),
        "conv1_stride_t": 1,
        "pool1_stride_t": 1,
        "inflate": (0, 0, 1, 1),
        "with_pool2": False,
    }
    fast_cfg: dict[str, Any] = {
        "lateral": False,
        "base_channels": 64 // channel_ratio,
        "conv1_kernel": (5, 7, 7),
        "conv1_stride_t": 1,
        "pool1_stride_t": 1,
        "with_pool2": False,
    }
    slow_cfg.update(slow_kwargs or {})
    fast_cfg.update(fast_kwargs or {})
    return slow_cfg, fast_cfg


def slowfast_backbone(
    *,
    depth: int = 50,
    resample_rate: int = 8,
    speed_ratio: int = 8,
    channel_ratio: int = 8,
    fusion_kernel: int = 5,
    lateral_norm: bool = False,
    pretrained: bool | str = False,
    slow_kwargs: dict | None = None,
    fast_kwargs: dict | None = None,
) -> ResNet3dSlowFast:
    """MMAction2's ``ResNet3dSlowFast`` configuration (tau = ``resample_rate``, alpha = ``speed_ratio``,
    1/beta = ``channel_ratio``). ``lateral_norm`` adds BatchNorm + ReLU after each fusion convolution
    (PyTorchVideo's form). ``slow_kwargs`` / ``fast_kwargs`` override pathway arguments.
    ``pretrained`` inflates ImageNet weights into the slow pathway (the fast one has no 2D counterpart)."""
    slow_cfg, fast_cfg = _pathway_configs(
        speed_ratio=speed_ratio,
        channel_ratio=channel_ratio,
        fusion_kernel=fusion_kernel,
        lateral_norm=lateral_norm,
        slow_kwargs=slow_kwargs,
        fast_kwargs=fast_kwargs,
    )
    slow = ResNet3dPathway(depth, **slow_cfg)
    fast = ResNet3dPathway(depth, **fast_cfg)
    if pretrained:
        slow.inflation_report = inflate_resnet2d_weights(slow, load_resnet2d_state_dict(depth, pretrained))
    return ResNet3dSlowFast(slow, fast, resample_rate=resample_rate, speed_ratio=speed_ratio)


def slowfast_feature_width(
    *,
    depth: int = 50,
    channel_ratio: int = 8,
    slow_kwargs: dict | None = None,
    fast_kwargs: dict | None = None,
) -> int:
    """Channels of ``slowfast_backbone``'s pooled (slow, fast) features together, without building it: the
    ``in_channels`` of the SlowFast head on it."""
    slow_cfg, fast_cfg = _pathway_configs(
        speed_ratio=1,
        channel_ratio=channel_ratio,
        fusion_kernel=1,
        lateral_norm=False,
        slow_kwargs=slow_kwargs,
        fast_kwargs=fast_kwargs,
    )
    return sum(
        feature_width(depth, base_channels=cfg.get("base_channels", 64), num_stages=cfg.get("num_stages", 4))
        for cfg in (slow_cfg, fast_cfg)
    )


_MM = "https://download.openmmlab.com/mmaction/v1.0/recognition/slowfast"
WEIGHTS: dict[str, WeightsInfo] = {
    "slowfast_r50_4x16x1_kinetics400_mmaction2": WeightsInfo(
        name="slowfast_r50_4x16x1_kinetics400_mmaction2",
        url=f"{_MM}/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb/"
        "slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb_20220901-701b0f6f.pth",
        source="mmaction2",
        converter="mmaction2_slowfast",
        meta={
            "num_params": 34_479_288,
            "categories": "kinetics400",
            "metrics": {"top1": 75.55, "top5": 92.35},
        },
    ),
    "slowfast_r50_8x8x1_kinetics400_mmaction2": WeightsInfo(
        name="slowfast_r50_8x8x1_kinetics400_mmaction2",
        url=f"{_MM}/slowfast_r50_8xb8-8x8x1-256e_kinetics400-rgb/"
        "slowfast_r50_8xb8-8x8x1-256e_kinetics400-rgb_20220818-1cb6dfc8.pth",
        source="mmaction2",
        converter="mmaction2_slowfast",
        meta={"categories": "kinetics400", "metrics": {"top1": 76.80, "top5": 92.99}},
    ),
}


#: The published checkpoints of each model (its registered ``weights`` catalogue).
SLOWFAST_R50_WEIGHTS = {name: info for name, info in WEIGHTS.items() if "_4x16x1_" in name}
SLOWFAST_R50_8X8_WEIGHTS = {name: info for name, info in WEIGHTS.items() if "_8x8x1_" in name}


def slowfast_r50_parts(
    *,
    num_classes: int = 400,
    resample_rate: int = 8,
    speed_ratio: int = 8,
    channel_ratio: int = 8,
    fusion_kernel: int = 5,
    lateral_norm: bool = False,
    pretrained: bool | str = False,
    dropout_ratio: float = 0.5,
    init_std: float = 0.01,
    weights: WeightsSource | None = None,
    weights_backbone_only: bool = False,
    slow_kwargs: dict | None = None,
    fast_kwargs: dict | None = None,
) -> dict[str, Any]:
    """``slowfast_r50`` composed of registered parts: backbone ``resnet3d_slowfast`` (the pathway arguments and
    ``pretrained`` go there) and head ``slowfast_head``. ``weights`` (a published name from ``WEIGHTS``, a path
    to an MMAction2 checkpoint or a loaded one) are loaded by core's ``load_weights`` once it is built."""
    description: dict[str, Any] = {
        "type": "Recognizer3D",
        "backbone": {
            "type": "resnet3d_slowfast",
            "depth": 50,
            "resample_rate": resample_rate,
            "speed_ratio": speed_ratio,
            "channel_ratio": channel_ratio,
            "fusion_kernel": fusion_kernel,
            "lateral_norm": lateral_norm,
            "pretrained": pretrained,
            "slow_kwargs": slow_kwargs,
            "fast_kwargs": fast_kwargs,
        },
        "head": {
            "type": "slowfast_head",
            "num_classes": num_classes,
            "in_channels": slowfast_feature_width(
                depth=50, channel_ratio=channel_ratio, slow_kwargs=slow_kwargs, fast_kwargs=fast_kwargs
            ),
            "dropout_ratio": dropout_ratio,
            "init_std": init_std,
            "loss": {"type": "cross_entropy"},
        },
    }
    if weights is not None:
        description.update(weights=weights, weights_backbone_only=weights_backbone_only)
    return description


def slowfast_r50(**kwargs: Any) -> Recognizer3D:
    """SlowFast ResNet-50 recognizer; input (N, 3, T, H, W) with T = 32 for both MMAction2 recipes, output
    logits (N, num_classes). Keyword arguments as ``slowfast_r50_parts`` (``num_classes=400, resample_rate=8,
    speed_ratio=8, channel_ratio=8, fusion_kernel=5, lateral_norm=False, pretrained=False, dropout_ratio=0.5,
    init_std=0.01, weights=None, weights_backbone_only=False, slow_kwargs=None, fast_kwargs=None``).

    4x16: ``resample_rate=8, speed_ratio=8``; 8x8: ``4, 4, fusion_kernel=7`` (use ``slowfast_r50_8x8``).
    PyTorchVideo's ``slowfast_r50`` is ``slowfast_r50_8x8(lateral_norm=True)`` (its weights load with
    ``load_weights(model, state_dict, converter="pytorchvideo_slowfast")``)."""
    return compose_model(slowfast_r50_parts(**kwargs))


def slowfast_r50_8x8_parts(
    *, resample_rate: int = 4, speed_ratio: int = 4, fusion_kernel: int = 7, **kwargs: Any
) -> dict[str, Any]:
    """``slowfast_r50_8x8`` composed of registered parts: ``slowfast_r50_parts`` with tau 4, alpha 4 and 7x1x1
    fusion by default; other arguments as there."""
    return slowfast_r50_parts(
        resample_rate=resample_rate, speed_ratio=speed_ratio, fusion_kernel=fusion_kernel, **kwargs
    )


def slowfast_r50_8x8(**kwargs: Any) -> Recognizer3D:
    """SlowFast ResNet-50 8x8 (tau 4, alpha 4, 7x1x1 fusion); keyword arguments as ``slowfast_r50_8x8_parts``."""
    return compose_model(slowfast_r50_8x8_parts(**kwargs))


def slowfast_head(*, num_classes: int = 400, in_channels: int = 2304, **kwargs: Any) -> SlowFastHead:
    """Registered builder of the SlowFast head (keywords as ``SlowFastHead``)."""
    return SlowFastHead(num_classes, in_channels, **kwargs)  # type: ignore[arg-type]
