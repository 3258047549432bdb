"""``action-run activitynet prepare``: official annotations -> MMAction2's BSN/BMN form, features checked.

    action-run activitynet prepare --annotations activity_net.v1-3.min.json --out data/ActivityNet \\
        [--video-info video_info_new.csv | --fps 30] [--features data/ActivityNet/csv_mean_100 --feat-dim 400]

Writes ``anno_train.json``, ``anno_val.json``, ``anno_test.json``, ``anno_full.json`` and ``classes.txt``
into ``--out``. With ``--features`` every annotated video's feature file is loaded and checked (present,
2-D, ``--feat-dim`` columns, finite); problems are listed one per line naming the video and the field,
and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from action_activitynet.annotations import (
    convert_official,
    load_official,
    load_video_info_csv,
    save_annotations,
)
from action_core.api import FEATURE_EXTENSIONS, AnnotationError, find_feature_file, load_features

__all__ = ["check_features", "main", "prepare"]


def check_features(
    videos: Sequence[str], feature_dir: str | Path, *, feat_dim: int | None = None, ext: str | None = None
) -> tuple[list[str], list[str]]:
    """Check the feature file of every video; returns (problems, feature files with no annotated video)."""
    problems: list[str] = []
    for name in videos:
        path = find_feature_file(feature_dir, name, ext)
        if path is None:
            problems.append(f"video {name!r}: feature file missing in {str(feature_dir)!r}")
            continue
        try:
            load_features(path, video=name, feat_dim=feat_dim)
        except AnnotationError as e:
            problems.append(str(e))
    known = set(videos)
    exts = FEATURE_EXTENSIONS if ext is None else (ext,)
    orphans = sorted(p.name for p in Path(feature_dir).iterdir() if p.suffix in exts and p.stem not in known)
    return problems, orphans


def prepare(
    annotations: str | Path,
    out: str | Path,
    *,
    video_info: str | Path | None = None,
    fps: float = 30.0,
    snippet: int = 16,
) -> dict[str, dict[str, Any]]:
    """Convert an official annotation file and write the MMAction2-form split files; returns the splits."""
    database = load_official(annotations)
    info = load_video_info_csv(video_info) if video_info else None
    splits = convert_official(database, video_info=info, fps=fps, snippet=snippet)
    out = Path(out)
    for name, videos in splits.items():
        save_annotations(out / f"anno_{name}.json", videos)
    full = {k: v for videos in splits.values() for k, v in videos.items()}
    save_annotations(out / "anno_full.json", full)
    labels = sorted({a["label"] for v in full.values() for a in v["annotations"]})
    (out / "classes.txt").write_text("".join(f"{c}\n" for c in labels), encoding="utf-8")
    return {**splits, "full": full}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="action-run activitynet", description="ActivityNet v1.3 data tools")
    sub = p.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="convert official annotations to MMAction2's BSN/BMN form")
    prep.add_argument("--annotations", required=True, help="official activity_net.v1-3(.min).json")
    prep.add_argument(
        "--out", required=True, help="folder for anno_{train,val,test,full}.json and classes.txt"
    )
    prep.add_argument("--video-info", help="BSN's video_info_new.csv (frame counts, fps); else --fps is used")
    prep.add_argument("--fps", type=float, default=30.0, help="frame rate used without --video-info (30)")
    prep.add_argument("--snippet", type=int, default=16, help="frames per feature snippet (16)")
    prep.add_argument("--features", help="feature folder to check against the annotations")
    prep.add_argument("--feature-ext", choices=FEATURE_EXTENSIONS, help="feature file type (default: either)")
    prep.add_argument("--feat-dim", type=int, help="expected number of feature columns (e.g. 400)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``action-run activitynet``."""
    ns = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    splits = prepare(ns.annotations, ns.out, video_info=ns.video_info, fps=ns.fps, snippet=ns.snippet)
    counts: Mapping[str, int] = {k: len(v) for k, v in splits.items()}
    print(
        f"wrote {ns.out}: "
        + ", ".join(f"anno_{k}.json ({n} videos)" for k, n in counts.items())
        + ", classes.txt"
    )
    if not ns.features:
        return 0
    problems, orphans = check_features(
        list(splits["full"]), ns.features, feat_dim=ns.feat_dim, ext=ns.feature_ext
    )
    for line in problems:
        print(f"problem: {line}")
    if orphans:
        print(f"note: {len(orphans)} feature file(s) belong to no annotated video, e.g. {orphans[0]}")
    print(f"checked {counts['full']} videos against {ns.features}: {len(problems)} problem(s)")
    return 1 if problems else 0
