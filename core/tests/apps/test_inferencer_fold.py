"""The Inferencer's batch norm folding: at the first batch of several clips the model is replaced by a folded
copy whose probabilities and features equal the unfolded model's; one clip alone is not folded."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from colourparts import CLASSES, ColourRecognizer, config_dict, write_colour_video
from torch import nn

from action_core.api import ExperimentConfig, Inferencer


class ColourWithNorm(ColourRecognizer):
    """The colour model behind a 1x1x1 convolution and a batch norm with trained-like statistics."""

    def __init__(self) -> None:
        super().__init__(scale=5.0)
        generator = torch.Generator().manual_seed(0)
        self.conv = nn.Conv3d(3, 3, 1, bias=False)
        self.bn = nn.BatchNorm3d(3)
        with torch.no_grad():
            self.conv.weight.copy_(
                torch.eye(3).reshape(3, 3, 1, 1, 1) + 0.1 * torch.randn(3, 3, 1, 1, 1, generator=generator)
            )
            self.bn.running_mean.copy_(torch.rand(3, generator=generator))
            self.bn.running_var.copy_(torch.rand(3, generator=generator) + 0.5)
            self.bn.weight.copy_(torch.rand(3, generator=generator) + 0.5)
            self.bn.bias.copy_(torch.randn(3, generator=generator) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(self.bn(self.conv(x)))


def test_a_batch_of_files_is_predicted_by_a_folded_copy_with_the_same_results(tmp_path: Path) -> None:
    paths = [write_colour_video(tmp_path / f"{c}.mp4", [(c, 1.2)], fps=10) for c in ("red", "green", "blue")]
    cfg = ExperimentConfig.from_dict(config_dict())
    model = ColourWithNorm()
    folded = Inferencer(model, cfg, classes=CLASSES, batch_size=3)
    plain = Inferencer(copy.deepcopy(model), cfg, classes=CLASSES, batch_size=3, fold_bn=False)

    single = folded.predict(paths[0])  # one clip: not worth folding
    assert isinstance(folded.model.bn, nn.BatchNorm3d)
    ours = folded.predict(paths, features=True)
    assert isinstance(folded.model.bn, nn.Identity) and isinstance(model.bn, nn.BatchNorm3d)
    reference = plain.predict(paths, features=True)
    assert isinstance(plain.model.bn, nn.BatchNorm3d)
    assert [p.label for p in ours] == [p.label for p in reference]
    for a, b in zip(ours, reference, strict=True):
        np.testing.assert_allclose(a.probs, b.probs, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a.features, b.features, rtol=1e-5, atol=1e-6)  # taken from the folded copy
    np.testing.assert_allclose(single.probs, reference[0].probs, rtol=1e-5, atol=1e-6)
