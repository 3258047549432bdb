"""action-tsn: TSN (temporal segment networks) with torchvision ResNet backbones."""

__version__ = "0.1.0"
