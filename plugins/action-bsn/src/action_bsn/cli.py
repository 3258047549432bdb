"""``action-run bsn``: BSN's proposal generation step, and the whole stage-wise chain in one command.

BSN is trained stage by stage (MMAction2's bsn_tem / bsn_pgm / bsn_pem configs). The learned stages are
presets that train and test through core's engine like any model; the proposal generation in between is not
learned and is this plugin's command::

    action-run train bsn_tem_400x100_1x16_20e_activitynet_feature --data-root data/ActivityNet
    action-run bsn pgm --checkpoint work_dirs/bsn_tem_400x100_1x16_20e_activitynet_feature/last.pth \\
        --out work_dirs/bsn_pgm_activitynet
    action-run train bsn_pem_400x100_1x16_20e_activitynet_feature --data-root work_dirs/bsn_pgm_activitynet
    action-run test bsn_pem_400x100_1x16_20e_activitynet_feature --data-root work_dirs/bsn_pgm_activitynet \\
        --checkpoint work_dirs/bsn_pem_400x100_1x16_20e_activitynet_feature/best.pth --out results.json

or all of it (each learned stage a Trainer run in its own work dir, so ``--resume auto`` continues the chain
where it stopped)::

    action-run bsn run --tem bsn_tem_400x100_1x16_20e_activitynet_feature \\
        --pem bsn_pem_400x100_1x16_20e_activitynet_feature --data-root data/ActivityNet --work-dir runs/bsn

``bsn pgm`` runs the TEM over every split of its config (the config stored in the checkpoint, or
``--config``) and writes, under ``--out``, the TEM results, candidate proposals and BSP features of every
video and each split's videos (the ``bsn_proposals`` dataset the PEM presets read; see
:mod:`action_bsn.pgm`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from action_bsn.pgm import PGM_DEFAULTS

__all__ = ["main", "run_chain", "run_pgm"]

STAGES = ("tem", "pgm", "pem")


def run_pgm(
    checkpoint: str | Path,
    out: str | Path,
    *,
    config: str | None = None,
    overrides: Sequence[str] = (),
    data_root: str | None = None,
    device: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Path:
    """Run the TEM of ``checkpoint`` over the train, val and test splits of its config and write the PGM
    proposals and BSP features of every video under ``out`` (rank 0; every rank returns when they are there)."""
    from action_bsn.convert import load_bsn_weights
    from action_bsn.models import TEM
    from action_bsn.pgm import generate_proposals
    from action_core.api import (
        ConfigError,
        barrier,
        build_dataset_from_config,
        build_model_from_config,
        dist_info,
        experiment_of_checkpoint,
        predict_per_video,
    )

    cfg = experiment_of_checkpoint(checkpoint, config, overrides, data_root=data_root)
    tem = build_model_from_config(cfg)
    if not isinstance(tem, TEM):
        raise ConfigError(
            f"`bsn pgm` needs a BSN TEM checkpoint; {str(checkpoint)!r} holds a {cfg.model.type!r} model"
        )
    load_bsn_weights(tem, str(checkpoint), module="tem")
    splits, results, built = [], {}, {}
    for role in ("train", "val", "test"):
        split = getattr(cfg.data, role).split
        key = (split, role == "train")
        if key not in built:
            dataset = build_dataset_from_config(cfg, role)
            built[key] = dataset
            results.update(
                predict_per_video(
                    tem, dataset, batch_size=cfg.data.batch_size, workers=cfg.data.workers, device=device
                )
            )
        splits.append((split, built[key].videos, role == "train"))
    if dist_info().is_main:
        generate_proposals(results, splits, out, temporal_scale=tem.temporal_dim, settings=settings)
    barrier()
    return Path(out)


def run_chain(
    tem: str,
    pem: str,
    work_dir: str | Path,
    *,
    stages: Sequence[str] = STAGES,
    tem_overrides: Sequence[str] = (),
    pem_overrides: Sequence[str] = (),
    data_root: str | None = None,
    resume: str | None = None,
    overwrite: bool = False,
    amp: str | None = None,
    seed: int | None = None,
    device: str | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, float]:
    """TEM training (``WORK/tem``), proposal generation (``WORK/pgm``), PEM training (``WORK/pem``) and the
    PEM's test (``WORK/results.json``) through core's engine; returns the test metrics (``{}`` when the
    ``pem`` stage is left out)."""
    from action_core.api import ConfigError, plugin_callbacks, run_test, run_train

    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ConfigError(f"unknown BSN stages {unknown}; choose from {', '.join(STAGES)}")
    work = Path(work_dir)
    tem_dir, pgm_dir, pem_dir = work / "tem", work / "pgm", work / "pem"
    common: dict[str, Any] = {
        "resume": resume,
        "overwrite": overwrite,
        "amp": amp,
        "seed": seed,
        "device": device,
    }
    if "tem" in stages:
        run_train(
            tem,
            overrides=tem_overrides,
            work_dir=tem_dir,
            data_root=data_root,
            callbacks=plugin_callbacks(),
            **common,
        )
    if "pgm" in stages:
        run_pgm(tem_dir / "last.pth", pgm_dir, config=tem, overrides=tem_overrides, data_root=data_root,
                device=device, settings=settings)  # fmt: skip
    if "pem" not in stages:
        return {}
    run_train(
        pem,
        overrides=pem_overrides,
        work_dir=pem_dir,
        data_root=str(pgm_dir),
        callbacks=plugin_callbacks(),
        **common,
    )
    best = pem_dir / "best.pth"
    return run_test(
        pem,
        best if best.is_file() else pem_dir / "last.pth",
        overrides=pem_overrides,
        data_root=str(pgm_dir),
        out=work / "results.json",
        device=device,
    )


def _pgm_settings(parser: argparse.ArgumentParser) -> None:
    for key, value in PGM_DEFAULTS.items():
        parser.add_argument(
            f"--{key.replace('_', '-')}",
            type=type(value),
            default=value,
            help=f"PGM setting (default {value})",
        )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="action-run bsn", description="BSN: proposal generation and the whole chain"
    )
    sub = p.add_subparsers(dest="command", required=True)
    pgm = sub.add_parser("pgm", help="TEM results -> candidate proposals + BSP features (the PEM's data)")
    pgm.add_argument(
        "--checkpoint", required=True, help="a TEM checkpoint (ours or MMAction2's with --config)"
    )
    pgm.add_argument(
        "--config", help="the TEM's preset or config (default: the one stored in the checkpoint)"
    )
    pgm.add_argument("--out", required=True, help="folder to write; the PEM presets' --data-root")
    pgm.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a config value of the TEM preset, e.g. --set data.root=/data/anet (repeatable)",
    )
    pgm.add_argument("--data-root", help="root of the feature dataset (sets data.root)")
    pgm.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    _pgm_settings(pgm)
    run = sub.add_parser("run", help="train the TEM, generate proposals, train and test the PEM")
    run.add_argument(
        "--tem",
        required=True,
        help="TEM preset or config (e.g. bsn_tem_400x100_1x16_20e_activitynet_feature)",
    )
    run.add_argument(
        "--pem",
        required=True,
        help="PEM preset or config (e.g. bsn_pem_400x100_1x16_20e_activitynet_feature)",
    )
    run.add_argument("--work-dir", required=True, help="tem/, pgm/, pem/ and results.json go here")
    run.add_argument("--data-root", help="root of the feature dataset (the TEM's data.root)")
    run.add_argument("--stages", default=",".join(STAGES), help="comma-separated subset of tem,pgm,pem")
    run.add_argument(
        "--set-tem", action="append", default=[], metavar="KEY=VALUE", help="TEM config override"
    )
    run.add_argument(
        "--set-pem", action="append", default=[], metavar="KEY=VALUE", help="PEM config override"
    )
    run.add_argument("--resume", help="'auto': continue each Trainer run from its newest complete checkpoint")
    run.add_argument("--overwrite", action="store_true", help="start each stage's work dir afresh")
    run.add_argument(
        "--amp",
        choices=["auto", "none", "bf16", "fp16"],
        help="mixed precision of both stages (default: auto)",
    )
    run.add_argument("--seed", type=int, help="random seed of both stages (sets train.seed)")
    run.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    _pgm_settings(run)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``action-run bsn``."""
    ns = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    settings = {key: getattr(ns, key) for key in PGM_DEFAULTS}
    if ns.command == "pgm":
        out = run_pgm(ns.checkpoint, ns.out, config=ns.config, overrides=ns.overrides, data_root=ns.data_root,
                      device=ns.device, settings=settings)  # fmt: skip
        print(f"wrote TEM results, proposals and BSP features to {out}", file=sys.stderr)
        return 0
    metrics = run_chain(
        ns.tem,
        ns.pem,
        ns.work_dir,
        stages=[s.strip() for s in ns.stages.split(",") if s.strip()],
        tem_overrides=ns.set_tem,
        pem_overrides=ns.set_pem,
        data_root=ns.data_root,
        resume=ns.resume,
        overwrite=ns.overwrite,
        amp=ns.amp,
        seed=ns.seed,
        device=ns.device,
        settings=settings,
    )
    print(json.dumps(metrics, indent=2, sort_keys=True))
    return 0
