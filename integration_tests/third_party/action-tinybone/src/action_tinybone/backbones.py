import torch
from torch import nn


class TinyTwoStage(nn.Module):
    """Frames (N*T, 3, H, W) through two strided conv stages; both stages are returned as clips
    (N, C, T, H, W), the layout a temporal pyramid neck takes."""

    def __init__(self, num_segments: int, widths: tuple[int, int]) -> None:
        super().__init__()
        self.num_segments = num_segments
        self.stage1 = nn.Sequential(
            nn.Conv2d(3, widths[0], 3, stride=2, padding=1), nn.BatchNorm2d(widths[0]), nn.ReLU()
        )
        self.stage2 = nn.Sequential(
            nn.Conv2d(widths[0], widths[1], 3, stride=2, padding=1), nn.BatchNorm2d(widths[1]), nn.ReLU()
        )

    def _clips(self, x: torch.Tensor) -> torch.Tensor:
        nt, c, h, w = x.shape
        return x.reshape(nt // self.num_segments, self.num_segments, c, h, w).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        first = self.stage1(x)
        second = self.stage2(first)
        return [self._clips(first), self._clips(second)]


def tiny_two_stage(*, num_segments: int = 4, widths: tuple[int, int] = (8, 16)) -> TinyTwoStage:
    return TinyTwoStage(num_segments, tuple(widths))
