"""FLOPs against MMAction2's model zoo, and TorchScript / ONNX export."""

import pytest
import torch

from action_core.api import count_flops, export_model
from action_swin import swin3d_b, swin3d_s, swin3d_t

NARROW = {
    "num_classes": 5,
    "embed_dims": 4,
    "depths": (2, 2, 2, 2),
    "num_heads": (1, 1, 2, 2),
    "window_size": (4, 3, 3),
}
# 12x28x28: padded, shifted and masked windows in time and space
CLIP = (1, 3, 12, 28, 28)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("build", "published"),
    [(swin3d_t, 88.0), (swin3d_s, 166.0), (swin3d_b, 282.0)],
    ids=["tiny", "small", "base"],
)
def test_flops_match_the_mmaction2_model_zoo(build, published):
    # MMAction2 1.2.0 metafile, swin-{tiny,small,base}-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb:
    # "FLOPs: 88G / 166G / 282G" (multiply-accumulates) for one 32x224x224 view (torchvision: 43.88 G for 16 frames).
    # Counted on the meta device: there attention decomposes into matrix products that FlopCounterMode counts (on
    # CPU it may run a fused kernel torch's counter has no formula for).
    with torch.device("meta"):
        report = count_flops(build(num_classes=400), (1, 3, 32, 224, 224))
    assert abs(report.macs / 1e9 - published) / published <= 0.02  # 87.76 / 165.68 / 281.33 G


def test_torchscript_export_equals_eager(tmp_path):
    report = export_model(swin3d_t(**NARROW), tmp_path / "model.pt", format="torchscript", input_shape=CLIP)
    assert report.max_abs_diff is not None and report.max_abs_diff <= 1e-4


@pytest.mark.slow
def test_onnx_export_equals_eager(tmp_path):
    for needed in ("onnx", "onnxscript", "onnxruntime"):
        pytest.importorskip(needed, reason="ONNX export needs action-core[export]")
    report = export_model(swin3d_t(**NARROW), tmp_path / "model.onnx", format="onnx", input_shape=CLIP)
    assert report.verified_with is not None and report.max_abs_diff <= 1e-4
