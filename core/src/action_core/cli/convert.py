"""``action-run convert SRC --out DST``: a foreign or pickled checkpoint as a plain state-dict file.

Everything else in the toolkit reads checkpoints with ``torch.load(weights_only=True)``, which refuses a file
holding pickled Python objects (unpickling them can run any code). This command is the one way past that
refusal, and only when the user says they trust the file (``--trust-pickle``). Keys in another toolbox's layout
go through a registered converter (``--converter``, the converter contract) or are loaded into a registered
model (``--model``, through :func:`~action_core.models.loading.load_weights`, which finds the converter and
checks every key). The output is ``{"model": state_dict, "meta": {...}}`` of tensors and plain values, which
``load_weights``, ``--checkpoint`` and ``--from`` read safely.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from action_core.errors import ActionError, ConfigError

PLAIN_SCALARS = (str, int, float, bool, type(None))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="action-run convert",
        description="Convert a checkpoint from another toolbox, or one holding pickled Python objects, into a "
        "plain state-dict file that this toolkit loads safely (weights only).",
        epilog="Examples:\n"
        "  action-run convert old.pth --out clean.pth --trust-pickle\n"
        "  action-run convert tsn_mmaction2.pth --out tsn.pth --model tsn_r50 --num-classes 400\n"
        "  action-run convert tsm_mmaction2.pth --out tsm.pth --converter tsm_from_mmaction",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", metavar="SRC", help="the checkpoint file to convert")
    parser.add_argument("--out", required=True, metavar="DST", help="where to write the converted file")
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--converter",
        metavar="NAME",
        help="a registered checkpoint converter to rename the keys with (`action-run list converters`)",
    )
    how.add_argument(
        "--model",
        metavar="NAME",
        help="a registered model to load the weights into (a fitting converter is found and every key is "
        "checked); the model's state dict is written",
    )
    parser.add_argument(
        "--num-classes", type=int, metavar="N", help="classes of the --model head (default: the builder's)"
    )
    parser.add_argument(
        "--model-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a builder argument of --model (VALUE read as JSON when it parses, else as text); repeatable",
    )
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="you trust this file: unpickle the Python objects it holds (this can run any code the file "
        "contains); without it such a file is refused",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace DST when it exists")
    return parser


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _model_args(pairs: list[str]) -> dict[str, Any]:
    args = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--model-arg {pair!r} must look like KEY=VALUE")
        args[key] = _value(value)
    return args


def read_source(path: Path, *, trust_pickle: bool) -> Mapping[str, Any]:
    """The checkpoint at ``path``: read weights-only, or, when refused for its pickled objects and
    ``trust_pickle``, fully unpickled (a pickled module gives its state dict)."""
    import torch
    from torch import nn

    from action_core.engine.checkpoint import CheckpointError, load_checkpoint

    try:
        return load_checkpoint(path)
    except CheckpointError as e:
        if not isinstance(e.__cause__, pickle.UnpicklingError):
            raise
        if not _looks_like_torch_file(path):
            raise CheckpointError(
                f"{str(path)!r} is not a PyTorch checkpoint (neither torch.save's zip format nor a pickle); "
                "check the path"
            ) from e
        if not trust_pickle:
            raise CheckpointError(
                f"{str(path)!r} holds pickled Python objects besides tensors and plain values, and unpickling "
                "them can run any code the file contains. If you trust where the file comes from, rerun with "
                f"--trust-pickle: action-run convert {str(path)!r} --out DST --trust-pickle"
            ) from e
    print(
        f"action-run convert: warning: unpickling {str(path)!r} with Python's pickle because --trust-pickle "
        "was given; this runs any code the file contains. Do this only for files from a source you trust.",
        file=sys.stderr,
    )
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # arbitrary pickled content can fail in arbitrary ways: all of them are bad input
        raise CheckpointError(
            f"cannot unpickle {str(path)!r} ({type(e).__name__}: {e}); a pickled checkpoint needs the code that "
            "wrote it (install the package it names), or it is damaged"
        ) from e
    if isinstance(loaded, nn.Module):
        return {"state_dict": loaded.state_dict()}
    if not isinstance(loaded, Mapping):
        raise CheckpointError(
            f"{str(path)!r} holds a {type(loaded).__name__}, not a checkpoint dict or a model; nothing to convert"
        )
    return {k: v.state_dict() if isinstance(v, nn.Module) else v for k, v in loaded.items()}


def _looks_like_torch_file(path: Path) -> bool:
    """torch.save writes a zip archive (or, before PyTorch 1.6, a pickle starting with the PROTO opcode)."""
    import zipfile

    with open(path, "rb") as f:
        head = f.read(2)
    return zipfile.is_zipfile(path) or (len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5)


def _plain(value: Any) -> bool:
    import torch

    if isinstance(value, (*PLAIN_SCALARS, torch.Tensor)):
        return True
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _plain_meta(checkpoint: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The plain entries of the checkpoint's ``meta`` and the names of the ones left out."""
    meta = checkpoint.get("meta")
    if not isinstance(meta, Mapping):
        return {}, []
    kept = {str(k): v for k, v in meta.items() if isinstance(k, str) and _plain(v)}
    return kept, sorted(str(k) for k in meta if k not in kept)


def _through_converter(checkpoint: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    import torch

    from action_core.models.loading import WeightsError
    from action_core.plugins.host import get_registry

    convert = get_registry().load("converter", name)
    try:
        state, unconverted = convert(checkpoint)
    except (KeyError, ValueError, TypeError) as e:
        raise WeightsError(
            f"{where}: converter {name!r} could not read it ({type(e).__name__}: {e}); check that the "
            "converter is meant for this checkpoint (`action-run info converter {name}`)"
        ) from e
    if unconverted:
        shown = ", ".join(list(unconverted)[:10]) + (" ..." if len(unconverted) > 10 else "")
        raise WeightsError(
            f"{where}: converter {name!r} has no rule for {len(unconverted)} key(s): {shown}; they would be "
            "lost. Check that the converter fits this checkpoint, or use --model to see which keys a model needs"
        )
    if not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{where}: converter {name!r} returned no tensors")
    return dict(state)


def _through_model(
    checkpoint: Mapping[str, Any],
    name: str,
    *,
    num_classes: int | None,
    args: dict[str, Any],
    where: str,
) -> dict[str, Any]:
    import action_core
    from action_core.models.checkpoints import CheckpointMismatchError
    from action_core.models.loading import load_weights

    kwargs = dict(args)
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    try:
        model = action_core.build_model(name, **kwargs)
    except (TypeError, ValueError) as e:
        if isinstance(e, ActionError):
            raise
        raise ConfigError(
            f"model {name!r} cannot be built with {kwargs}: {e} (`action-run info {name}` lists its arguments)"
        ) from e
    try:
        load_weights(model, checkpoint)
    except CheckpointMismatchError as e:
        raise CheckpointMismatchError(f"{where}: {e}", e.report) from e
    return {k: v for k, v in model.state_dict().items()}


def convert(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    converter: str | None = None,
    model: str | None = None,
    num_classes: int | None = None,
    model_args: dict[str, Any] | None = None,
    trust_pickle: bool = False,
    overwrite: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Write ``source`` as a plain state-dict checkpoint at ``out``; returns the path and its ``meta``."""
    from action_core.engine.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
    from action_core.models.checkpoints import extract_state_dict

    src, dst = Path(source), Path(out)
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        raise ActionError(f"--out {str(dst)!r} is the source file; write the converted checkpoint elsewhere")
    if dst.is_dir():
        raise ActionError(
            f"--out {str(dst)!r} is a folder; give a file name such as {str(dst / 'model.pth')!r}"
        )
    if dst.exists() and not overwrite:
        raise ActionError(f"--out {str(dst)!r} exists; pass --overwrite to replace it")
    if num_classes is not None and model is None:
        raise ConfigError("--num-classes applies to --model; give the model the weights belong to")
    checkpoint = read_source(src, trust_pickle=trust_pickle)
    where = str(src)
    meta: dict[str, Any] = {"converted_from": src.name}
    left_out: list[str] = []
    if converter is not None:
        weights = _through_converter(checkpoint, converter, where)
        meta["converter"] = converter
    elif model is not None:
        weights = _through_model(
            checkpoint, model, num_classes=num_classes, args=model_args or {}, where=where
        )
        meta["model"] = model
    else:
        try:
            weights = extract_state_dict(checkpoint)
        except (TypeError, ValueError) as e:
            raise CheckpointError(f"{where}: {e}") from e
        kept, left_out = _plain_meta(checkpoint)
        meta = {**kept, **meta}
    if left_out:
        print(
            f"action-run convert: left out meta entries that are not plain values: {', '.join(left_out)}",
            file=sys.stderr,
        )
    save_checkpoint({"model": weights, "meta": meta}, dst)
    load_checkpoint(dst)  # the promise of this command: the file loads weights-only
    return dst, meta


def main(argv: list[str]) -> int:
    """``action-run convert``."""
    args = _parser().parse_args(argv)
    dst, meta = convert(
        args.source,
        args.out,
        converter=args.converter,
        model=args.model,
        num_classes=args.num_classes,
        model_args=_model_args(args.model_arg),
        trust_pickle=args.trust_pickle,
        overwrite=args.overwrite,
    )
    how = (
        f" through converter {args.converter}"
        if args.converter
        else f" checked against model {args.model}"
        if args.model
        else ""
    )
    print(f"wrote {dst}{how}: a plain state dict (loads with weights_only=True)")
    return 0
