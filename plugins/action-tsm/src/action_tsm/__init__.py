"""action-tsm: TSM (temporal shift module) with ResNet and MobileNetV2 backbones."""
