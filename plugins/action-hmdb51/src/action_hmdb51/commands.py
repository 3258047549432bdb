"""``action-run hmdb51 prepare --root DIR``: lists (and optionally rawframes) from a local HMDB51 copy."""

from __future__ import annotations

import argparse

from action_core.api import SplitSpec, add_prepare_arguments, extract_archives, run_prepare
from action_hmdb51 import annotations


def main(argv: list[str]) -> int:
    """Entry point of ``action-run hmdb51``."""
    parser = argparse.ArgumentParser(prog="action-run hmdb51", description="HMDB51 data preparation.")
    sub = parser.add_subparsers(dest="action", required=True)
    prep = sub.add_parser(
        "prepare",
        help="check a local copy (<class>/*.avi + testTrainMulti_7030_splits/) and write the training lists",
        description="Check a local HMDB51 copy (class folders of .avi files as the per-class rars unpack, and "
        "testTrainMulti_7030_splits/) against the 153 official split files and write lists under ROOT/lists.",
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
    return run_prepare("hmdb51", splits, classes, args)[1]
