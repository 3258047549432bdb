"""``action-run sthv1 prepare`` / ``action-run sthv2 prepare`` (also ``something prepare --version N``)."""

from __future__ import annotations

import argparse

from action_core.api import AnnotationError, SplitSpec, add_prepare_arguments, extract_archives, run_prepare
from action_something import annotations


def main(argv: list[str], *, version: int | None = None) -> int:
    """Entry point of ``action-run something`` (and of ``sthv1`` / ``sthv2``)."""
    prog = f"action-run {'sthv' + str(version) if version else 'something'}"
    parser = argparse.ArgumentParser(prog=prog, description="Something-Something data preparation.")
    sub = parser.add_subparsers(dest="action", required=True)
    prep = sub.add_parser(
        "prepare",
        help="check a local copy and write the training lists",
        description="V1: frame folders 20bn-something-something-v1/<id>/ and something-something-v1-*.csv. "
        "V2: 20bn-something-something-v2/<id>.webm and something-something-v2-*.json (in the root or "
        "annotations/). Writes MMAction2 lists under ROOT/lists.",
    )
    add_prepare_arguments(prep)
    if version is None:
        prep.add_argument(
            "--version", type=int, choices=(1, 2), default=2, help="Something-Something V1 or V2 (default 2)"
        )
    args = parser.parse_args(argv)
    version = version or args.version
    extract_archives(args)
    classes = annotations.load_classes(args.root, version)
    media = annotations.media_dir(args.root, version)
    splits = {}
    for split in ("train", "val", "test"):
        try:
            samples = annotations.load(args.root, split, version)[1]
        except AnnotationError:
            if split == "test":
                continue
            raise
        if version == 1:
            splits[split] = SplitSpec(samples, media, "dir", frame_template=annotations.V1_FRAME_TEMPLATE)
        else:
            splits[split] = SplitSpec(samples, media, "name")
    return run_prepare(f"sthv{version}", splits, classes, args)[1]


def main_v1(argv: list[str]) -> int:
    """``action-run sthv1``."""
    return main(argv, version=1)


def main_v2(argv: list[str]) -> int:
    """``action-run sthv2``."""
    return main(argv, version=2)
