"""``action-run demo``: the main job on the built-in synthetic dataset.

Generates the motion-only synthetic dataset, trains TSM and TSN on it, evaluates both on the test split,
prints a table (top-1, time per epoch) and writes, under the work dir, each run's checkpoints, JSON-lines
log, loss/accuracy curves and confusion matrix, plus ``predict_demo.mp4``: a test video with TSM's top-3
labels drawn on it. TSM models time (temporal shift); TSN averages frame scores, and since every single
frame of this dataset comes from the same distribution whatever the class, it stays near chance.
Rerunning resumes: finished runs are not trained again.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

DEFAULT_PRESETS = ("tsm_r18_synthetic", "tsn_r18_synthetic")


def main(argv: list[str]) -> int:
    """Run the demo; returns 0 when every run finished."""
    parser = argparse.ArgumentParser(
        prog="action-run demo", description=__doc__.splitlines()[0].replace("``", "`")
    )
    parser.add_argument("--work-dir", default="work_dirs/demo", help="where everything is written")
    parser.add_argument(
        "--presets", nargs="+", default=list(DEFAULT_PRESETS), help="presets to train and compare"
    )
    parser.add_argument(
        "--data-root", help="where the synthetic videos are generated (default WORK_DIR/data)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override applied to every preset, e.g. --set schedule.epochs=2",
    )
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    parser.add_argument("--no-video", action="store_true", help="skip the predict demo video")
    args = parser.parse_args(argv)

    from action_core.engine.commands import (
        load_experiment,
        plugin_callbacks,
        run_predict,
        run_test,
        run_train,
    )

    work_dir = Path(args.work_dir)
    data_root = args.data_root or str(work_dir / "data")
    rows: list[dict[str, Any]] = []
    for preset in args.presets:
        run_dir = work_dir / preset
        cfg = load_experiment(preset, args.overrides, data_root=data_root)
        print(
            f"== {preset}: {cfg.model.type} on {cfg.data.dataset}, {cfg.schedule.epochs} epochs", flush=True
        )
        start = time.perf_counter()
        run_train(
            preset,
            overrides=args.overrides,
            work_dir=run_dir,
            resume="auto",
            data_root=data_root,
            device=args.device,
            callbacks=plugin_callbacks(),
        )
        seconds = time.perf_counter() - start
        checkpoint = run_dir / "best.pth" if (run_dir / "best.pth").exists() else run_dir / "last.pth"
        metrics = run_test(
            preset,
            checkpoint,
            overrides=args.overrides,
            out=run_dir / "test_results.json",
            data_root=data_root,
            device=args.device,
        )
        rows.append(
            {
                "preset": preset,
                "model": cfg.model.type,
                "top1": metrics.get("top1"),
                "mean_class_accuracy": metrics.get("mean_class_accuracy"),
                "epochs": cfg.schedule.epochs,
                "seconds_per_epoch": seconds / max(cfg.schedule.epochs, 1),
                "checkpoint": str(checkpoint),
            }
        )
    video = None
    if not args.no_video and rows:
        video = _predict_demo(rows[0], args, data_root, work_dir, run_predict)
    summary = {"runs": rows, "predict_demo": video}
    (work_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print()
    print(render_table(rows))
    print(f"\nplots, logs and checkpoints: {work_dir}/<preset>/; summary: {work_dir / 'summary.json'}")
    if video:
        print(
            f"predict demo video: {video['path']} (true label {video['label']!r}, top-1 {video['top'][0][0]!r})"
        )
    return 0


def render_table(rows: list[dict[str, Any]]) -> str:
    """The results table printed at the end of the demo."""
    lines = [f"{'preset':<22} {'model':<10} {'test top-1':>10} {'mean class acc':>14} {'s / epoch':>9}"]
    for r in rows:
        lines.append(
            f"{r['preset']:<22} {r['model']:<10} {_pct(r['top1']):>10} {_pct(r['mean_class_accuracy']):>14} "
            f"{r['seconds_per_epoch']:>9.1f}"
        )
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _predict_demo(
    row: dict[str, Any], args: argparse.Namespace, data_root: str, work_dir: Path, run_predict
) -> dict:
    import action_core as ac
    from action_core.engine.commands import load_experiment

    cfg = load_experiment(row["preset"], args.overrides, data_root=data_root)
    test = cfg.data.test
    dataset = ac.build_dataset(
        cfg.data.dataset,
        split=test.split,
        root=cfg.data.root,
        pipeline=test.pipeline,
        test_mode=True,
        **test.args,
    )
    record = dataset.records[0]
    out = work_dir / "predict_demo.mp4"
    top = run_predict(record.path, row["checkpoint"], top_k=3, out_video=out, device=args.device)
    return {"path": str(out), "video": record.path, "label": dataset.classes[record.label], "top": top}
