"""``action-run bmn``: train, test and run BMN on feature datasets.

    action-run bmn train PRESET_OR_TOML --data-root DIR --work-dir runs/bmn [--set schedule.epochs=3]
    action-run bmn test PRESET_OR_TOML --checkpoint runs/bmn/last.pth --data-root DIR [--out results.json]
    action-run bmn localize --checkpoint runs/bmn/last.pth --annotations anno_val.json --features DIR \\
        --out proposals.json

``train`` writes ``last.pth`` (``{"state_dict", "model": {"type", "args"}, "epoch"}``) and, after the last
epoch, ``results.json`` (official ActivityNet results format) and ``metrics.json`` for the val split.
``test`` prints AR@1/5/10/100 and AUC. ``localize`` needs no ground truth and writes proposals only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from action_core.api import load_config, strip_video_prefix, write_activitynet_results

__all__ = ["build_split", "main"]


def _model_from(cfg: Mapping[str, Any]) -> torch.nn.Module:
    import action_core as ac

    return ac.build("model", cfg["type"], num_classes=cfg.get("num_classes", 1), **cfg.get("args", {}))


def build_split(cfg: Mapping[str, Any], which: str, *, test_mode: bool) -> Any:
    """The dataset of ``cfg["data"][which]`` through the registry (``data.dataset`` names the builder)."""
    import action_core as ac

    data = cfg["data"]
    split = data.get(which, {})
    return ac.build(
        "dataset",
        data["dataset"],
        split=split.get("split", which),
        root=data.get("root", ""),
        pipeline=split.get("pipeline", []),
        test_mode=test_mode,
        **split.get("args", {}),
    )


def _save(path: Path, model: torch.nn.Module, cfg: Mapping[str, Any], epoch: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    model_cfg = {"type": cfg["model"]["type"], "args": dict(cfg["model"].get("args", {}))}
    torch.save({"state_dict": model.state_dict(), "model": model_cfg, "epoch": epoch}, path)


def _load(path: str, cfg: Mapping[str, Any] | None) -> torch.nn.Module:
    from action_bmn.convert import load_bmn_weights
    from action_core.api import read_checkpoint

    ckpt = read_checkpoint(path)
    model_cfg = cfg["model"] if cfg is not None else ckpt.get("model") if isinstance(ckpt, Mapping) else None
    if model_cfg is None:
        raise ValueError(f"checkpoint {path!r} carries no model config; pass --config")
    model = _model_from(model_cfg)
    load_bmn_weights(model, ckpt)
    return model


def _results(proposals: Mapping[str, Any], keep_prefix: bool) -> dict[str, Any]:
    return {(k if keep_prefix else strip_video_prefix(k)): v for k, v in proposals.items()}


def _train(ns: argparse.Namespace) -> int:
    from action_bmn.engine import evaluate_proposals, predict_localizer, seed_all, train_localizer

    cfg = load_config(ns.config, _overrides(ns))
    seed_all(int(cfg.get("train", {}).get("seed", 0)))  # model initialisation is part of the run's seed
    model = _model_from(cfg["model"])
    train_set = build_split(cfg, "train", test_mode=False)
    optim = cfg.get("optim", {})
    sched = cfg.get("schedule", {})
    work = Path(ns.work_dir)
    history = train_localizer(
        model,
        train_set,
        epochs=int(sched.get("epochs", 1)),
        batch_size=int(cfg["data"].get("batch_size", 8)),
        lr=float(optim.get("lr", 1e-3)),
        weight_decay=float(optim.get("weight_decay", 1e-4)),
        milestones=sched.get("milestones", []),
        gamma=float(sched.get("gamma", 0.1)),
        grad_clip=optim.get("grad_clip", 40.0),
        seed=int(cfg.get("train", {}).get("seed", 0)),
        optimizer=ns.optimizer or optim.get("type", "adam"),
        momentum=float(optim.get("momentum", 0.9)),
        on_epoch_end=lambda epoch, loss: (
            _save(work / "last.pth", model, cfg, epoch),
            print(f"epoch {epoch}: loss {loss:.4f}"),
        ),
    )
    val_set = build_split(cfg, "val", test_mode=True)
    proposals = predict_localizer(model, val_set)
    metrics = evaluate_proposals(val_set.ground_truth(), proposals)
    write_activitynet_results(work / "results.json", _results(proposals, ns.keep_prefix))
    (work / "metrics.json").write_text(json.dumps({"loss": history, **metrics}, indent=1), encoding="utf-8")
    print(" ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    return 0


def _test(ns: argparse.Namespace) -> int:
    from action_bmn.engine import evaluate_proposals, predict_localizer

    cfg = load_config(ns.config, _overrides(ns))
    model = _load(ns.checkpoint, cfg)
    dataset = build_split(cfg, "test", test_mode=True)
    proposals = predict_localizer(model, dataset)
    metrics = evaluate_proposals(dataset.ground_truth(), proposals)
    if ns.out:
        write_activitynet_results(ns.out, _results(proposals, ns.keep_prefix))
    print(" ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    return 0


def _localize(ns: argparse.Namespace) -> int:
    from action_activitynet.annotations import load_annotations
    from action_activitynet.dataset import LocalizationFeatureDataset
    from action_bmn.engine import predict_localizer

    cfg = load_config(ns.config) if ns.config else None
    model = _load(ns.checkpoint, cfg)
    scale = ns.temporal_scale or getattr(model, "tscale", 100)
    dataset = LocalizationFeatureDataset(
        load_annotations(ns.annotations),
        ns.features,
        temporal_scale=scale,
        feat_dim=getattr(model, "feat_dim", None),
        test_mode=True,
        source=ns.annotations,
    )
    proposals = predict_localizer(model, dataset)
    path = write_activitynet_results(ns.out, _results(proposals, ns.keep_prefix))
    print(f"wrote {sum(len(v) for v in proposals.values())} proposals of {len(proposals)} videos to {path}")
    return 0


def _overrides(ns: argparse.Namespace) -> list[str]:
    out = list(ns.set or [])
    if getattr(ns, "data_root", None):
        out.append(f"data.root={json.dumps(ns.data_root)}")
    return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="action-run bmn", description="BMN temporal action proposals")
    sub = p.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train on the config's train split, evaluate on its val split")
    tr.add_argument("config", help="preset name or TOML file")
    tr.add_argument("--work-dir", required=True)
    tr.add_argument(
        "--optimizer", choices=("adam", "adamw", "sgd"), help="override optim.type (MMAction2: adam)"
    )
    te = sub.add_parser("test", help="AR@AN and AUC on the config's test split")
    te.add_argument("config", help="preset name or TOML file")
    te.add_argument("--checkpoint", required=True)
    te.add_argument("--out", help="also write the proposals as an ActivityNet results JSON")
    for sp in (tr, te):
        sp.add_argument("--data-root", help="fills data.root")
        sp.add_argument("--set", action="append", metavar="KEY=VALUE", help="config override, repeatable")
    lo = sub.add_parser("localize", help="features + annotations (timing only) -> proposals JSON")
    lo.add_argument("--checkpoint", required=True)
    lo.add_argument("--config", help="preset or TOML (default: the model config stored in the checkpoint)")
    lo.add_argument("--annotations", required=True, help="MMAction2-form or official annotation JSON")
    lo.add_argument("--features", required=True, help="folder of <video>.csv / .npy feature files")
    lo.add_argument("--temporal-scale", type=int, help="default: the model's temporal_dim")
    lo.add_argument("--out", required=True)
    for sp in (tr, te, lo):
        sp.add_argument("--keep-prefix", action="store_true", help="keep MMAction2's v_ prefix in video ids")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``action-run bmn``."""
    ns = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    return {"train": _train, "test": _test, "localize": _localize}[ns.command](ns)
