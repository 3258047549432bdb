"""Export a model to TorchScript or ONNX and check the exported outputs against the eager model.

TorchScript export traces the model (``torch.jit.trace``) and is always verified. ONNX export uses
``torch.onnx.export`` (the ``onnx`` and ``onnxscript`` packages are needed; ``pip install
'action-core[export]'``); it is verified with onnxruntime when that is installed, and the report says when
it could not be. Tolerance: max absolute difference ≤ ``atol`` (1e-4 by default, fp32).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import nn

from action_core.errors import ActionError

FORMATS = ("onnx", "torchscript")


class ExportError(ActionError):
    """The model could not be exported, or the export's outputs differ from the eager model's."""


@attrs.frozen
class ExportReport:
    """Where the export went and how closely it matches eager execution."""

    path: Path
    format: str
    input_shape: tuple[int, ...]
    max_abs_diff: float | None
    verified_with: str | None

    def render(self) -> str:
        """One line for the command line."""
        if self.max_abs_diff is None:
            check = "not verified (install onnxruntime to verify ONNX exports)"
        else:
            check = f"max |exported - eager| = {self.max_abs_diff:.2e} ({self.verified_with})"
        return f"wrote {self.path} ({self.format}, input {self.input_shape}); {check}"


def export_model(
    model: nn.Module,
    path: str | Path,
    *,
    format: str,
    input_shape: Sequence[int],
    atol: float = 1e-4,
    opset: int = 18,
) -> ExportReport:
    """Export ``model`` (put in eval mode) and verify it on a random input of ``input_shape``."""
    if format not in FORMATS:
        raise ExportError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}")
    model = model.eval()
    shape = tuple(int(s) for s in input_shape)
    generator = torch.Generator().manual_seed(0)
    example = torch.randn(shape, generator=generator)
    with torch.no_grad():
        expected = _as_tuple(model(example))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    diff: float | None
    verified: str | None
    if format == "torchscript":
        try:
            with torch.no_grad():
                traced = torch.jit.trace(model, example, check_trace=False)
            traced.save(str(out))
        except Exception as e:
            raise ExportError(f"TorchScript export of {type(model).__name__} failed: {e}") from e
        loaded = torch.jit.load(str(out))
        with torch.no_grad():
            got = _as_tuple(loaded(example))
        diff = _max_diff(got, expected)
        verified = "torch.jit.load"
    else:
        for needed in ("onnx", "onnxscript"):
            if importlib.util.find_spec(needed) is None:
                raise ExportError(
                    f"ONNX export needs the {needed!r} package: pip install 'action-core[export]'"
                )
        try:
            torch.onnx.export(
                model,
                (example,),
                str(out),
                input_names=["inputs"],
                output_names=["scores"],
                opset_version=opset,
                dynamo=True,
                external_data=False,
            )
        except Exception as e:
            raise ExportError(f"ONNX export of {type(model).__name__} failed: {e}") from e
        diff, verified = _check_onnx(out, example, expected)
    if diff is not None and diff > atol:
        raise ExportError(
            f"exported {format} model differs from the eager model by {diff:.3e} > {atol:g}; "
            f"the file is at {out} for inspection"
        )
    return ExportReport(out, format, shape, diff, verified)


def _as_tuple(output: Any) -> tuple[torch.Tensor, ...]:
    """A model's output as a tuple of tensors (localizers return several maps)."""
    return tuple(output) if isinstance(output, (tuple, list)) else (output,)


def _max_diff(got: Sequence[Any], expected: Sequence[torch.Tensor]) -> float:
    if len(got) != len(expected):
        raise ExportError(f"the exported model returns {len(got)} outputs, the eager model {len(expected)}")
    return max(float((torch.as_tensor(g) - e).abs().max()) for g, e in zip(got, expected, strict=True))


def _check_onnx(
    path: Path, example: torch.Tensor, expected: tuple[torch.Tensor, ...]
) -> tuple[float | None, str | None]:
    if importlib.util.find_spec("onnxruntime") is None:
        return None, None
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: example.numpy()})
    return _max_diff(got, expected), f"onnxruntime {onnxruntime.__version__}"
