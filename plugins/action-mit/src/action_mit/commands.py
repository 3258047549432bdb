"""``action-run mit prepare`` and ``action-run mmit prepare``."""

from __future__ import annotations

import argparse

from action_core.api import SplitSpec, add_prepare_arguments, extract_archives, run_prepare
from action_mit import annotations


def main(argv: list[str], *, dataset: str = "mit") -> int:
    """Entry point of ``action-run mit`` (``dataset="mmit"``: ``action-run mmit``)."""
    parser = argparse.ArgumentParser(prog=f"action-run {dataset}", description=f"{dataset} data preparation.")
    sub = parser.add_subparsers(dest="action", required=True)
    prep = sub.add_parser(
        "prepare",
        help="check a local copy and write the training lists",
        description="Check a local copy (training/ and validation/ clip folders, trainingSet.csv, "
        "validationSet.csv, moments_categories.txt) and write MMAction2 lists under ROOT/lists.",
    )
    add_prepare_arguments(prep)
    args = parser.parse_args(argv)
    extract_archives(args)
    classes = annotations.load_classes(args.root, dataset)
    splits = {}
    for split in ("train", "val"):
        samples = annotations.load(args.root, split, dataset)[1]
        splits[split] = SplitSpec(
            samples, annotations.media_dir(args.root, split, dataset), annotations.match_mode(samples)
        )
    return run_prepare(dataset, splits, classes, args)[1]


def main_mmit(argv: list[str]) -> int:
    """``action-run mmit``."""
    return main(argv, dataset="mmit")
