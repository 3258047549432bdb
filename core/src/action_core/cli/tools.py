"""``action-run flops`` and ``action-run export``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from action_core.errors import ActionError


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(p) for p in text.replace("x", ",").split(",") if p.strip())
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"input shape {text!r} must be integers like 1,8,3,224,224") from e
    if not shape or any(s <= 0 for s in shape):
        raise argparse.ArgumentTypeError(f"input shape {text!r} must be positive integers like 1,8,3,224,224")
    return shape


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        help="a registered model name, a preset or config file, or a checkpoint written by `action-run train`",
    )
    parser.add_argument("--checkpoint", help="weights to load into the model (safe loading: weights only)")
    parser.add_argument("--num-classes", type=int, help="override the number of classes")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a config value before building, e.g. --set model.args.num_segments=16 (repeatable)",
    )
    parser.add_argument(
        "--input-shape", type=_shape, help="one input batch, e.g. 1,8,3,224,224 (N,T,C,H,W for 2D)"
    )


def build_model_from_source(
    source: str,
    *,
    overrides: Sequence[str] = (),
    num_classes: int | None = None,
    checkpoint: str | None = None,
) -> Any:
    """A model from a model name, a preset/config (``[model]`` table) or a training checkpoint.

    With weights to load (a checkpoint as ``source`` or ``checkpoint``) the model is built without its
    initial weights (nothing downloaded) and a training checkpoint of another model type is refused.
    """
    from action_core.config import apply_overrides, load_source
    from action_core.engine.checkpoint import check_model_type, load_checkpoint
    from action_core.models.compose import compose_model, without_downloads
    from action_core.plugins import get_registry

    model_cfg: dict[str, Any] | None = None
    state: dict[str, Any] | None = None
    path = Path(source)
    if path.suffix in {".pth", ".pt", ".ckpt"}:
        state = load_checkpoint(path)
        config = (state.get("meta") or {}).get("config")
        if not isinstance(config, dict) or "model" not in config:
            raise ActionError(
                f"checkpoint {source!r} does not record its config; pass the preset or config it was trained "
                f"with as SOURCE and the file as --checkpoint"
            )
        model_cfg = apply_overrides(config, overrides)["model"]
        checkpoint = checkpoint or source
    elif ("model", source) in get_registry():
        model_cfg = {"type": source, "args": {}}
    else:
        model_cfg = apply_overrides(load_source(source), overrides).get("model")
        if not isinstance(model_cfg, dict) or "type" not in model_cfg:
            raise ActionError(f"config {source!r} has no [model] table with a 'type'")
    classes = num_classes if num_classes is not None else model_cfg.get("num_classes")
    description = {
        "type": model_cfg["type"],
        **dict(model_cfg.get("args") or {}),
        **{part: model_cfg[part] for part in ("backbone", "neck", "head") if model_cfg.get(part)},
    }
    if not checkpoint:
        return compose_model(description, num_classes=classes)
    if state is None or checkpoint != source:
        state = load_checkpoint(checkpoint)
    check_model_type(state, {**model_cfg, "num_classes": classes}, source=f"checkpoint {checkpoint!r}")
    model = compose_model(without_downloads(description), num_classes=classes)
    from action_core.engine.inference import load_weights

    load_weights(model, state, source=f"checkpoint {checkpoint!r}")
    spec = dict((state.get("meta") or {}).get("input") or {})
    model.input_spec = spec  # type: ignore[assignment]  # a plain attribute on the Module
    return model


def input_shape_of(model: Any) -> tuple[int, ...]:
    """One view of the input the model was trained on (a checkpoint's input spec), else the default."""
    from action_core.tools.flops import default_input_shape

    spec = getattr(model, "input_spec", None) or {}
    shape = default_input_shape(model)
    size = spec.get("size")
    frames = spec.get("frames")
    if isinstance(size, list) and len(size) == 2:
        if getattr(model, "input_format", "NCTHW") == "NTCHW":
            shape = (1, int(frames or shape[1]), 3, int(size[0]), int(size[1]))
        else:
            shape = (1, 3, int(frames or shape[2]), int(size[0]), int(size[1]))
    return shape


def flops_main(argv: list[str]) -> int:
    """Parameters and FLOPs (torch.utils.flop_counter) with a per-module table."""
    parser = argparse.ArgumentParser(
        prog="action-run flops",
        description="Count parameters and FLOPs of a model (2 FLOPs per multiply-accumulate; GMACs is "
        "the figure MMAction2 publishes as FLOPs).",
    )
    _add_model_args(parser)
    parser.add_argument("--depth", type=int, default=2, help="module nesting shown in the table")
    args = parser.parse_args(argv)
    from action_core.tools.flops import count_flops

    model = build_model_from_source(
        args.source, overrides=args.overrides, num_classes=args.num_classes, checkpoint=args.checkpoint
    )
    report = count_flops(model, args.input_shape or input_shape_of(model))
    print(report.render(depth=args.depth))
    return 0


def export_main(argv: list[str]) -> int:
    """Export to ONNX or TorchScript and verify against the eager model."""
    parser = argparse.ArgumentParser(
        prog="action-run export", description="Export a model to ONNX or TorchScript and verify its outputs."
    )
    _add_model_args(parser)
    parser.add_argument(
        "--format",
        choices=["onnx", "torchscript"],
        required=True,
        help="onnx (needs action-core[export]) or torchscript; the export is checked against eager outputs",
    )
    parser.add_argument("--out", help="output file (default: <model>.onnx / .pt next to the source)")
    parser.add_argument("--atol", type=float, default=1e-4, help="largest accepted |exported - eager|")
    args = parser.parse_args(argv)
    from action_core.tools.export import export_model

    model = build_model_from_source(
        args.source, overrides=args.overrides, num_classes=args.num_classes, checkpoint=args.checkpoint
    )
    out = args.out or f"{Path(args.source).stem}.{'onnx' if args.format == 'onnx' else 'pt'}"
    report = export_model(
        model,
        out,
        format=args.format,
        input_shape=args.input_shape or input_shape_of(model),
        atol=args.atol,
    )
    print(report.render())
    return 0
