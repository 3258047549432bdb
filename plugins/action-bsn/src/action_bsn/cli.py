"""``action-run bsn``: the BSN chain (TEM -> PGM -> PEM) as one workflow with intermediate files on disk.

    action-run bsn run bsn_400x100_1x16_20e_activitynet_feature --data-root data/ActivityNet --work-dir runs/bsn
    action-run bsn run CONFIG --work-dir runs/bsn --stages pgm,pem-train,pem-infer   # resume from TEM results

Stages (default all, in order): tem-train, tem-infer, pgm, pem-train, pem-infer; see
:mod:`action_bsn.workflow` for the files each writes. The config's train split trains TEM and PEM; its
test split is localized and evaluated (AR@AN, AUC).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from action_core.api import load_config

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="action-run bsn", description="BSN temporal action proposals")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the BSN stages")
    run.add_argument("config", help="preset name or TOML file (model type bsn)")
    run.add_argument("--work-dir", required=True)
    run.add_argument("--data-root", help="fills data.root")
    run.add_argument("--set", action="append", metavar="KEY=VALUE", help="config override, repeatable")
    run.add_argument(
        "--stages", default="tem-train,tem-infer,pgm,pem-train,pem-infer", help="comma-separated"
    )
    run.add_argument("--keep-prefix", action="store_true", help="keep MMAction2's v_ prefix in video ids")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``action-run bsn``."""
    ns = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    import action_core as ac
    from action_bmn.cli import build_split
    from action_bmn.engine import seed_all
    from action_bsn.workflow import run_bsn

    overrides = list(ns.set or [])
    if ns.data_root:
        overrides.append(f"data.root={json.dumps(ns.data_root)}")
    cfg = load_config(ns.config, overrides)
    seed_all(int(cfg.get("train", {}).get("seed", 0)))  # model initialisation is part of the run's seed
    model = ac.build(
        "model",
        cfg["model"]["type"],
        num_classes=cfg["model"].get("num_classes", 1),
        **cfg["model"].get("args", {}),
    )
    stages = [s.strip() for s in ns.stages.split(",") if s.strip()]
    metrics = run_bsn(
        cfg,
        ns.work_dir,
        model=model,
        train_set=build_split(cfg, "train", test_mode=False),
        test_set=build_split(cfg, "test", test_mode=True),
        stages=stages,
        keep_prefix=ns.keep_prefix,
    )
    print(f"stages {', '.join(stages)} done in {ns.work_dir}" + ("; " if metrics else ""), end="")
    print(" ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    return 0
