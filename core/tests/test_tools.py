"""`action-run flops` and `action-run export` on a small real model from a plugin."""

from __future__ import annotations

import pytest
import torch

from action_core.cli.main import main
from action_core.models.weights import count_parameters
from action_core.tools.export import ExportError, export_model
from action_core.tools.flops import count_flops

PLUGIN = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_models(register):
    register("conv_net", "fake_tools.models:conv_net")
"""

MODELS = """
import torch
from torch import nn

class ConvNet(nn.Module):
    input_format = "NCTHW"
    clip_len = 4

    def __init__(self, num_classes, width):
        super().__init__()
        self.conv = nn.Conv3d(3, width, kernel_size=3, padding=1, bias=False)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(self.conv(x).relu().mean(dim=(2, 3, 4)))

def conv_net(*, num_classes=10, width=8):
    return ConvNet(num_classes, width)
"""


@pytest.fixture
def conv_plugin(make_plugin):
    pkg = make_plugin("tools", PLUGIN)
    (pkg / "models.py").write_text(MODELS)


def test_flops_match_the_analytical_count(conv_plugin):
    import action_core as ac

    model = ac.build_model("conv_net", num_classes=5, width=8)
    report = count_flops(model, (2, 3, 4, 16, 16))
    conv_macs = 2 * 8 * 4 * 16 * 16 * (3 * 27)  # N * C_out * T * H * W * (C_in * k^3)
    fc_macs = 2 * 8 * 5
    assert report.macs == conv_macs + fc_macs
    assert report.params == count_parameters(model) == 8 * 3 * 27 + 8 * 5 + 5
    assert {m.name: m.flops for m in report.modules}["conv"] == 2 * conv_macs


def test_flops_command_prints_table(conv_plugin, capsys):
    assert main(["flops", "conv_net", "--num-classes", "3", "--input-shape", "1,3,4,8,8"]) == 0
    out = capsys.readouterr().out
    assert "conv " in out and "total" in out and "GMACs" in out


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_export_matches_eager(conv_plugin, tmp_path, fmt):
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
        pytest.importorskip("onnxruntime")
    import action_core as ac

    model = ac.build_model("conv_net", num_classes=4)
    report = export_model(model, tmp_path / f"m.{fmt}", format=fmt, input_shape=(1, 3, 4, 8, 8))
    assert report.max_abs_diff is not None and report.max_abs_diff <= 1e-4
    assert report.path.stat().st_size > 0


def test_export_command_and_bad_format(conv_plugin, tmp_path, capsys):
    out = tmp_path / "net.pt"
    assert (
        main(
            ["export", "conv_net", "--format", "torchscript", "--out", str(out), "--input-shape", "1,3,4,8,8"]
        )
        == 0
    )
    assert "max |exported - eager|" in capsys.readouterr().out
    loaded = torch.jit.load(str(out))
    assert loaded(torch.zeros(1, 3, 4, 8, 8)).shape == (1, 10)
    with pytest.raises(ExportError, match="unknown export format"):
        export_model(torch.nn.Linear(2, 2), tmp_path / "x", format="tflite", input_shape=(1, 2))
