"""``action-run localize``: a localizer's proposals for every video of a split, through the engine."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str]) -> int:
    """``action-run localize --checkpoint CKPT --out proposals.json [--config C] [--split test] ...``."""
    parser = argparse.ArgumentParser(
        prog="action-run localize",
        description="Temporal action proposals of a localizer checkpoint for every video of a split (no "
        "ground truth needed), written as an ActivityNet results JSON.",
    )
    parser.add_argument(
        "--checkpoint",
        required=True,
        help="a localizer's training checkpoint (best.pth or last.pth of its work dir)",
    )
    parser.add_argument("--config", help="preset or config (default: the one stored in the checkpoint)")
    parser.add_argument("--split", default="test", choices=["train", "val", "test"], help="data.<split>")
    parser.add_argument("--out", required=True, help="the ActivityNet results JSON to write")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override one config value, e.g. --set data.test.args.feature_dir=features (repeatable)",
    )
    parser.add_argument("--data-root", help="root folder of the dataset (sets data.root)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    args = parser.parse_args(argv)
    from action_core.engine.commands import run_localize

    proposals = run_localize(
        args.checkpoint,
        out=args.out,
        config=args.config,
        overrides=args.overrides,
        split=args.split,
        data_root=args.data_root,
        device=args.device,
    )
    count = sum(len(v) for v in proposals.values())
    print(f"wrote {count} proposals of {len(proposals)} videos to {args.out}", file=sys.stderr)
    return 0
