"""action-tsm: TSM (temporal shift module) with ResNet and MobileNetV2 backbones."""

__version__ = "0.1.0"
