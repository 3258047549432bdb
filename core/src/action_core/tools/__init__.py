"""Analysis and deployment tools: parameter and FLOP counts, ONNX / TorchScript export."""
