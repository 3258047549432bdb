"""Batch-norm folding: the folded copy equals the eager model to 1e-5, is refused where a convolution's output
feeds more than its batch norm, and leaves the model it was given unchanged."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from action_core.models.fuse import FoldError, fold_batchnorm


def randomise_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Batch norms with statistics and affine parameters far from the identity, so folding is visible."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            n = module.num_features
            if module.running_mean is not None:
                module.running_mean.copy_(torch.randn(n, generator=generator))
                module.running_var.copy_(torch.rand(n, generator=generator) * 3 + 0.2)
            module.weight.data.copy_(torch.rand(n, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(n, generator=generator))
    return model


class Block2D(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)  # with a bias of its own
        self.bn2 = nn.BatchNorm2d(8)
        self.head = nn.Sequential(nn.Conv3d(8, 4, 1), nn.BatchNorm3d(4), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = x + self.bn2(self.conv2(x))  # residual around conv+bn: foldable (the sum uses the bn's output)
        return self.head(x.unsqueeze(2)).mean((2, 3, 4))


class Leaky(nn.Module):
    """The convolution's output feeds its batch norm *and* the sum: folding would change the result."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return self.bn(y) + y


def test_folded_copy_equals_eager_and_leaves_the_original_alone() -> None:
    torch.manual_seed(0)
    model = randomise_bn(Block2D())
    x = torch.randn(2, 3, 12, 12)
    with torch.no_grad():
        expected = model.eval()(x)
    model.train()
    folded, report = fold_batchnorm(model, lambda m: m(x))
    assert report.folded == 3 and report.kept == 0 and report.max_abs_diff <= 1e-5
    assert model.training and isinstance(model.bn1, nn.BatchNorm2d)  # the original is unchanged
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in folded.modules())
    assert folded.conv1.bias is not None
    with torch.no_grad():
        assert torch.allclose(folded(x), expected, rtol=1e-5, atol=1e-5)
    # on an input it was not checked on, too
    other = torch.randn(3, 3, 12, 12)
    with torch.no_grad():
        assert torch.allclose(folded(other), model.eval()(other), rtol=1e-5, atol=1e-5)


def test_channels_last_weights_stay_channels_last() -> None:
    model = randomise_bn(Block2D()).eval()
    for p in model.parameters():
        if p.ndim == 4:
            p.data = p.data.contiguous(memory_format=torch.channels_last)
    x = torch.randn(1, 3, 8, 8).contiguous(memory_format=torch.channels_last)
    folded, _ = fold_batchnorm(model, lambda m: m(x))
    assert folded.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert not folded.conv1.weight.is_contiguous()


def test_a_convolution_output_used_twice_is_not_folded() -> None:
    model = randomise_bn(Leaky())
    x = torch.randn(1, 3, 6, 6)
    # the hooks see the batch norm's input is the conv's output, but the conv's output also feeds the sum:
    # the check against the eager output refuses the fold
    with pytest.raises(FoldError, match=r"changed its outputs by .*Run without folding"):
        fold_batchnorm(model, lambda m: m(x))


def test_batch_statistics_and_shared_convolutions_are_kept() -> None:
    class Shared(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)
            self.bn_a = nn.BatchNorm2d(3)
            self.bn_live = nn.BatchNorm2d(3, track_running_stats=False)
            self.conv2 = nn.Conv2d(3, 3, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a = self.bn_a(self.conv(x))
            b = self.conv(a)  # the same convolution again: its weights cannot take one batch norm
            return self.bn_live(self.conv2(b))

    model = randomise_bn(Shared())
    x = torch.randn(2, 3, 5, 5)
    folded, report = fold_batchnorm(model, lambda m: m(x))
    assert report.folded == 0 and report.kept == 2
    assert isinstance(folded.bn_a, nn.BatchNorm2d) and isinstance(folded.bn_live, nn.BatchNorm2d)
