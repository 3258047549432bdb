"""``action-run kinetics prepare --version 400 --root DIR`` (also ``kinetics400`` / ``600`` / ``700 prepare``)."""

from __future__ import annotations

import argparse

from action_core.api import AnnotationError, SplitSpec, add_prepare_arguments, extract_archives, run_prepare
from action_kinetics import annotations


def main(argv: list[str], *, version: int | None = None) -> int:
    """Entry point of ``action-run kinetics`` (and of the per-version commands)."""
    prog = f"action-run kinetics{version or ''}"
    parser = argparse.ArgumentParser(prog=prog, description="Kinetics data preparation.")
    sub = parser.add_subparsers(dest="action", required=True)
    prep = sub.add_parser(
        "prepare",
        help="check a local copy (train/ val/ test/ + annotations/*.csv) and write the training lists",
        description="Check a local Kinetics copy against the official CSVs: clips are matched by name "
        "({youtube_id}_{start:06d}_{end:06d}) in train/, val/ (or validate/) and test/, flat or in class "
        "folders. Missing clips (usual for Kinetics) are counted and left out.",
    )
    add_prepare_arguments(prep)
    if version is None:
        prep.add_argument(
            "--version",
            type=int,
            choices=annotations.VERSIONS,
            default=400,
            help="which Kinetics: 400, 600 or 700 (default 400)",
        )
    prep.add_argument("--splits", default="train,val,test", help="which CSVs to use (those present are used)")
    args = parser.parse_args(argv)
    version = version or args.version
    extract_archives(args)
    classes = annotations.load_classes(args.root, version)
    splits = {}
    for split in [s.strip() for s in args.splits.split(",") if s.strip()]:
        try:
            path = annotations.csv_path(args.root, split, version)
        except AnnotationError:
            if split == "test":
                continue  # many copies have no test CSV
            raise
        samples = annotations.read_split_csv(path, classes)
        splits[split] = SplitSpec(samples, annotations.video_dir(args.root, split), "name")
    return run_prepare(f"kinetics{version}", splits, classes, args)[1]


def main400(argv: list[str]) -> int:
    """``action-run kinetics400``."""
    return main(argv, version=400)


def main600(argv: list[str]) -> int:
    """``action-run kinetics600``."""
    return main(argv, version=600)


def main700(argv: list[str]) -> int:
    """``action-run kinetics700``."""
    return main(argv, version=700)
