"""Every recognizer and BMN export to TorchScript and ONNX with outputs equal to eager (≤ 1e-4, fp32).

Small widths/inputs keep it quick; the exported graphs take the same code paths as the full models.
"""

from __future__ import annotations

import pytest

import action_core as ac
from action_core.tools.export import export_model

CASES = {
    "tsn_r18": ({"num_classes": 5, "num_segments": 2}, (1, 2, 3, 32, 32)),
    "tsm_r18": ({"num_classes": 5, "num_segments": 2}, (1, 2, 3, 32, 32)),
    "i3d_r50": ({"num_classes": 5}, (1, 3, 8, 32, 32)),
    "slowonly_r50": ({"num_classes": 5}, (1, 3, 4, 32, 32)),
    "slowfast_r50": ({"num_classes": 5}, (1, 3, 16, 32, 32)),
    "r2plus1d_r34": ({"num_classes": 5}, (1, 3, 4, 32, 32)),
    "bmn": (
        {
            "temporal_dim": 8,
            "feat_dim": 8,
            "num_samples": 4,
            "num_samples_per_bin": 2,
            "hidden_dim_1d": 8,
            "hidden_dim_2d": 4,
            "hidden_dim_3d": 8,
        },
        (1, 8, 8),
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_export_matches_eager(tmp_path, name, fmt):
    if ("model", name) not in ac.get_registry():
        pytest.skip(f"the plugin providing {name} is not installed")
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
        pytest.importorskip("onnxruntime")
    kwargs, shape = CASES[name]
    report = export_model(
        ac.build_model(name, **kwargs), tmp_path / f"{name}.{fmt}", format=fmt, input_shape=shape
    )
    assert report.max_abs_diff is not None and report.max_abs_diff <= 1e-4
