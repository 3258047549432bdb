"""``action-run ucf101 prepare --root DIR``: lists (and optionally rawframes) from a local UCF101 copy."""

from __future__ import annotations

import argparse

from action_core.api import SplitSpec, add_prepare_arguments, extract_archives, run_prepare
from action_ucf101 import annotations


def main(argv: list[str]) -> int:
    """Entry point of ``action-run ucf101``."""
    parser = argparse.ArgumentParser(prog="action-run ucf101", description="UCF101 data preparation.")
    sub = parser.add_subparsers(dest="action", required=True)
    prep = sub.add_parser(
        "prepare",
        help="check a local copy (UCF-101/ + ucfTrainTestlist/) and write the training lists",
        description="Check a local UCF101 copy (UCF-101/<Class>/*.avi and ucfTrainTestlist/) against the "
        "official split files and write MMAction2 lists under ROOT/lists.",
    )
    add_prepare_arguments(prep)
    prep.add_argument("--splits", default="1,2,3", help="which official splits to write (comma-separated)")
    args = parser.parse_args(argv)
    extract_archives(args)
    numbers = [int(n) for n in args.splits.split(",") if n.strip()]
    classes = annotations.load(args.root, "train", numbers[0])[0]
    media = annotations.video_dir(args.root)
    splits = {}
    for n in numbers:
        for split in ("train", "test"):
            splits[annotations.list_key(split, n)] = SplitSpec(
                annotations.load(args.root, split, n)[1], media, "path"
            )
    return run_prepare("ucf101", splits, classes, args)[1]
