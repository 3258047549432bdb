"""action-tsn: TSN (temporal segment networks) with torchvision ResNet backbones."""
