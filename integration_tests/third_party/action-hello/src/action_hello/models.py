import torch
from torch import nn


class HelloNet(nn.Module):
    input_format = "NCTHW"

    def __init__(self, num_classes: int, width: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(3, width, kernel_size=3, padding=1)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).relu().mean(dim=(2, 3, 4)))


def hello_net(*, num_classes: int = 10, width: int = 8) -> HelloNet:
    return HelloNet(num_classes, width)
