"""``action-run train | test``: argument parsing around :mod:`action_core.engine.commands`."""

from __future__ import annotations

import argparse
import json


def _common(parser: argparse.ArgumentParser, example: str = "optim.lr=0.01") -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help=f"override one config value, e.g. --set {example} (repeatable)",
    )
    parser.add_argument("--data-root", help="root folder of the dataset (sets data.root)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")


def train_main(argv: list[str]) -> int:
    """Train a model from a preset or config file."""
    parser = argparse.ArgumentParser(
        prog="action-run train",
        description="Train from a preset or config file. Multi-GPU: torchrun --nproc-per-node N -m "
        "action_core.cli.main train ...",
    )
    parser.add_argument(
        "config", help="preset name or config file (TOML/YAML); with --videos also a registered model name"
    )
    _common(parser)
    parser.add_argument(
        "--videos",
        metavar="DIR_OR_LIST",
        help="train on your own videos: a folder DIR/<class>/<video> (or DIR/train|val|test/<class>/...), or "
        "a list of 'PATH LABEL' rows; split train/val/test by --seed when it has no split; the lists and the "
        "label map are written to WORK_DIR/lists",
    )
    parser.add_argument(
        "--label-map", help="with --videos: class names, one per line (default: sorted names)"
    )
    parser.add_argument(
        "--from",
        dest="init_from",
        metavar="SOURCE",
        help="fine-tune from these weights: a checkpoint of `action-run train`, a published checkpoint name, "
        "or an MMAction2 / PyTorchVideo / torchvision file or URL; a head of another class count is "
        "re-initialised (sets train.load_from)",
    )
    parser.add_argument(
        "--freeze",
        metavar="PART",
        help="keep 'backbone' or 'stages<=N' (stem and first N stages) fixed while training (sets train.freeze)",
    )
    parser.add_argument(
        "--lr-preset",
        choices=["finetune", "head", "recipe"],
        help="learning rates: 'finetune' (backbone at 0.1 x the recipe's rate, head at the recipe's; the "
        "default with --from), 'head' (the recipe's; the default with --freeze backbone), 'recipe' (as "
        "configured)",
    )
    parser.add_argument("--work-dir", help="where checkpoints, logs and plots go (default work_dirs/<name>)")
    parser.add_argument("--resume", help="'auto' (the newest complete checkpoint in the work dir) or a path")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="the work dir holds an earlier run: remove its checkpoints and log and start afresh",
    )
    parser.add_argument(
        "--amp",
        choices=["auto", "none", "bf16", "fp16"],
        help="mixed precision (default: train.amp of the config, 'auto': bf16 where the device computes it "
        "natively, fp16 on other GPUs, else fp32)",
    )
    parser.add_argument("--seed", type=int, help="random seed (sets train.seed)")
    args = parser.parse_args(argv)
    from action_core.engine.commands import plugin_callbacks, run_train

    metrics = run_train(
        args.config,
        overrides=args.overrides,
        work_dir=args.work_dir,
        resume=args.resume,
        overwrite=args.overwrite,
        amp=args.amp,
        seed=args.seed,
        data_root=args.data_root,
        device=args.device,
        callbacks=plugin_callbacks(),
        videos=args.videos,
        label_map=args.label_map,
        init_from=args.init_from,
        freeze=args.freeze,
        lr_preset=args.lr_preset,
    )
    print(json.dumps(metrics, indent=2, sort_keys=True))
    return 0


def test_main(argv: list[str]) -> int:
    """Evaluate a checkpoint on the test split (multi-view for recognizers)."""
    parser = argparse.ArgumentParser(
        prog="action-run test", description="Evaluate a checkpoint on a test split."
    )
    parser.add_argument(
        "config",
        nargs="?",
        help="preset name or config file the checkpoint was trained with (default: the config the "
        "checkpoint carries, its test split)",
    )
    parser.add_argument(
        "--checkpoint",
        required=True,
        help="the checkpoint to evaluate (best.pth or last.pth of a run, or any epoch_N.pth)",
    )
    parser.add_argument(
        "--views",
        help="clips x crops, e.g. 10x3 or 1x1 (default: the config's test pipeline); a 2D model's clips hold "
        "the segment count it was trained with",
    )
    parser.add_argument(
        "--out",
        help="write the metrics and, per sample, the file, its label, the class probabilities and the top-5 "
        "class names to this JSON file (a localizer: its proposals as an ActivityNet results JSON)",
    )
    _common(parser, example="data.batch_size=4")
    args = parser.parse_args(argv)
    from action_core.engine.commands import run_test

    metrics = run_test(
        args.config,
        args.checkpoint,
        overrides=args.overrides,
        views=args.views,
        out=args.out,
        data_root=args.data_root,
        device=args.device,
    )
    print(json.dumps(metrics, indent=2, sort_keys=True))
    return 0
