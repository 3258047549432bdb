"""The TRN head (Zhou et al., 2018), as MMAction2 1.2.0's ``TRNHead``.

Every segment's pooled feature is projected to ``hidden_dim`` (``fc_cls``); the relation module then
classifies ordered tuples of segments. Multi-scale (the default) sums, for each tuple size
``num_segments`` down to 2, an MLP over the concatenated features of the tuple: all segments for the
largest size, and for every smaller size up to three tuples picked among all ordered combinations.

Which tuples are picked: MMAction2 draws them with numpy's global generator at every forward, in eval mode
too, so its predictions vary from call to call. Here training draws them at every forward (torch's
generator), while eval mode uses one fixed draw (``eval_relations``, seeded, settable with
:meth:`MultiScaleRelation.set_eval_relations`), so predictions are reproducible and the model exports.
With the same draw the logits equal MMAction2's.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from action_core.api import CrossEntropyLoss

__all__ = ["MultiScaleRelation", "Relation", "TRNHead", "trn_head"]


def _mlp(in_features: int, bottleneck: int, num_classes: int) -> nn.Sequential:
    # ReLU first: the input is the linear projection fc_cls, not yet activated (MMAction2's layout).
    return nn.Sequential(
        nn.ReLU(), nn.Linear(in_features, bottleneck), nn.ReLU(), nn.Linear(bottleneck, num_classes)
    )


class Relation(nn.Module):
    """Single-scale relation: an MLP over all segments' features concatenated in time order."""

    def __init__(self, hidden_dim: int, num_segments: int, num_classes: int, *, bottleneck_dim: int = 512):
        super().__init__()
        self.classifier = _mlp(num_segments * hidden_dim, bottleneck_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores (N, num_classes) of (N, num_segments, hidden_dim) segment features."""
        return self.classifier(x.flatten(1))


class MultiScaleRelation(nn.Module):
    """Multi-scale relation: sum over tuple sizes ``num_segments`` .. 2 of an MLP per size, applied to the
    full sequence for the largest size and to up to ``max_relations`` ordered segment tuples for the others.

    ``seed`` fixes the eval-mode draw of tuples (see the module docstring).
    """

    def __init__(
        self,
        hidden_dim: int,
        num_segments: int,
        num_classes: int,
        *,
        bottleneck_dim: int = 256,
        max_relations: int = 3,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if num_segments < 2:
            raise ValueError(
                f"multi-scale relations need at least 2 segments, got num_segments={num_segments}"
            )
        self.scales = tuple(range(num_segments, 1, -1))
        self.fc_fusion_scales = nn.ModuleList(
            _mlp(scale * hidden_dim, bottleneck_dim, num_classes) for scale in self.scales
        )
        # Ordered tuples of each smaller size, in itertools.combinations order (MMAction2 indexes the same
        # list), and how many of them one forward uses.
        self.num_picked: list[int] = []
        generator = torch.Generator().manual_seed(seed)
        for i, scale in enumerate(self.scales[1:], start=1):
            tuples = torch.tensor(list(itertools.combinations(range(num_segments), scale)))
            self.register_buffer(f"tuples_{i}", tuples, persistent=False)
            picked = min(max_relations, len(tuples))
            self.num_picked.append(picked)
            self.register_buffer(
                f"eval_choice_{i}",
                torch.randperm(len(tuples), generator=generator)[:picked],
                persistent=False,
            )

    @property
    def eval_relations(self) -> list[list[int]]:
        """For each tuple size below ``num_segments`` (largest first), the indices (into that size's
        ``itertools.combinations`` list) of the tuples eval mode uses."""
        return [getattr(self, f"eval_choice_{i}").tolist() for i in range(1, len(self.scales))]

    def set_eval_relations(self, choice: Sequence[Sequence[int]]) -> None:
        """Fix the tuples eval mode uses, e.g. to reproduce one of MMAction2's draws (``np.random.choice``
        results in the order its forward makes them)."""
        if len(choice) != len(self.scales) - 1:
            raise ValueError(f"need one choice per tuple size {self.scales[1:]}, got {len(choice)}")
        for i, (indices, picked) in enumerate(zip(choice, self.num_picked, strict=True), start=1):
            count = len(getattr(self, f"tuples_{i}"))
            if (
                len(indices) != picked
                or len(set(indices)) != picked
                or not all(0 <= j < count for j in indices)
            ):
                raise ValueError(
                    f"tuple size {self.scales[i]}: need {picked} distinct indices in [0, {count}), got {list(indices)}"
                )
            buffer = getattr(self, f"eval_choice_{i}")
            buffer.copy_(torch.as_tensor(list(indices), dtype=buffer.dtype))

    def _tuples(self, i: int) -> torch.Tensor:
        tuples = getattr(self, f"tuples_{i}")
        if self.training:
            choice = torch.randperm(len(tuples), device=tuples.device)[: self.num_picked[i - 1]]
        else:
            choice = getattr(self, f"eval_choice_{i}")
        return tuples[choice]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores (N, num_classes) of (N, num_segments, hidden_dim) segment features."""
        scores = self.fc_fusion_scales[0](x.flatten(1))
        for i in range(1, len(self.scales)):
            picked = x[:, self._tuples(i)]  # (N, relations, scale, hidden_dim)
            scores = scores + self.fc_fusion_scales[i](picked.flatten(2)).sum(1)
        return scores


class TRNHead(nn.Module):
    """TRN head: spatial average pool, dropout, ``fc_cls`` to ``hidden_dim`` per segment, relation module.

    Input (N * num_segments, C, H, W) frame features; ``num_segments`` is a fixed hyper-parameter (the
    relation MLPs depend on it), so a different segment count is an error. Defaults: MMAction2's TRN-R50.
    ``multi_scale=False`` is MMAction2's single-scale ``relation_type='TRN'``.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        *,
        num_segments: int = 8,
        multi_scale: bool = True,
        hidden_dim: int = 256,
        spatial_type: str | None = "avg",
        dropout_ratio: float = 0.8,
        init_std: float = 0.001,
        loss: nn.Module | None = None,
        label_smoothing: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
        if spatial_type not in ("avg", None):
            raise ValueError(f"spatial_type must be 'avg' or None, got {spatial_type!r}")
        if not 0.0 <= dropout_ratio < 1.0:
            raise ValueError(f"dropout_ratio must be in [0, 1), got {dropout_ratio!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.num_segments = num_segments
        self.init_std = init_std
        self.avg_pool = nn.AdaptiveAvgPool2d(1) if spatial_type == "avg" else None
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio > 0 else None
        self.fc_cls = nn.Linear(in_channels, hidden_dim)
        self.consensus: nn.Module = (
            MultiScaleRelation(hidden_dim, num_segments, num_classes, seed=seed)
            if multi_scale
            else Relation(hidden_dim, num_segments, num_classes)
        )
        self.loss_fn = loss if loss is not None else CrossEntropyLoss(label_smoothing=label_smoothing)
        self.init_weights()

    def init_weights(self) -> None:
        """N(0, init_std) ``fc_cls`` with zero bias; the relation MLPs keep PyTorch's default (as MMAction2)."""
        nn.init.normal_(self.fc_cls.weight, std=self.init_std)
        nn.init.zeros_(self.fc_cls.bias)

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        """Logits (N, num_classes) from (N * num_segments, C, H, W) features."""
        if num_segs is not None and num_segs != self.num_segments:
            raise ValueError(
                f"the TRN head was built for num_segments={self.num_segments} (its relation MLPs depend on "
                f"it), got {num_segs} segments per sample; sample {self.num_segments} frames per view"
            )
        if self.avg_pool is not None:
            x = self.avg_pool(x)
        x = x.flatten(1)
        if self.dropout is not None:
            x = self.dropout(x)
        x = self.fc_cls(x)
        return self.consensus(x.reshape(-1, self.num_segments, x.shape[-1]))

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The head's loss for ``logits`` (N, K) and ``target`` (indices (N,) or (N, K) float)."""
        return self.loss_fn(logits, target)


def trn_head(*, num_classes: int, in_channels: int = 2048, **kwargs: Any) -> TRNHead:
    """Keyword-only builder of :class:`TRNHead` (the registry form)."""
    return TRNHead(num_classes, in_channels, **kwargs)
