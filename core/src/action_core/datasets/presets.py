"""Standard experiment presets of the dataset plugins: MMAction2's TSN/TSM recipes, as plain data."""

from __future__ import annotations

from typing import Any

IMAGENET_MEAN = [123.675, 116.28, 103.53]
IMAGENET_STD = [58.395, 57.12, 57.375]


def _pipeline(
    num_clips: int, *, train: bool, test_views: bool, flip_label_map: dict[str, int] | None
) -> list[dict]:
    steps: list[dict[str, Any]] = [
        {"type": "SampleFrames", "clip_len": 1, "frame_interval": 1, "num_clips": num_clips}
        | ({} if train else {"test_mode": True}),
        {"type": "DecodeFrames"},
        {"type": "Resize", "scale": [-1, 256]},
    ]
    if train:
        steps += [
            {
                "type": "MultiScaleCrop",
                "input_size": 224,
                "scales": [1, 0.875, 0.75, 0.66],
                "random_crop": False,
                "max_wh_scale_gap": 1,
            },
            {"type": "Resize", "scale": [224, 224], "keep_ratio": False},
            {"type": "Flip", "flip_ratio": 0.5}
            | ({"flip_label_map": flip_label_map} if flip_label_map else {}),
        ]
    else:
        steps.append(
            {"type": "ThreeCrop", "crop_size": 256}
            if test_views
            else {"type": "CenterCrop", "crop_size": 224}
        )
    steps += [
        {"type": "Normalize", "mean": IMAGENET_MEAN, "std": IMAGENET_STD, "on_device": True},
        {"type": "FormatShape", "input_format": "NCHW"},
    ]
    return steps


def recognition_preset(
    *,
    model: str,
    dataset: str,
    num_classes: int,
    num_segments: int,
    epochs: int,
    lr: float,
    milestones: list[int],
    model_args: dict[str, Any] | None = None,
    split_args: dict[str, Any] | None = None,
    val_split: str = "val",
    test_split: str = "val",
    batch_size: int = 32,
    weight_decay: float = 1e-4,
    test_clips: int | None = None,
    metrics: list[str] | None = None,
    best_metric: str = "top1",
    flip_label_map: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A TSN/TSM-style experiment: ``num_segments`` one-frame segments, multi-scale crop and flip in
    training, centre crop in validation, three crops of ``test_clips`` clips in testing."""
    args = dict(split_args or {})
    return {
        "model": {
            "type": model,
            "num_classes": num_classes,
            "args": {"num_segments": num_segments} | (model_args or {}),
        },
        "data": {
            "dataset": dataset,
            "root": "",
            "batch_size": batch_size,
            "workers": 4,
            "train": {
                "split": "train",
                "pipeline": _pipeline(
                    num_segments, train=True, test_views=False, flip_label_map=flip_label_map
                ),
                "args": args,
            },
            "val": {
                "split": val_split,
                "pipeline": _pipeline(num_segments, train=False, test_views=False, flip_label_map=None),
                "args": args,
            },
            "test": {
                "split": test_split,
                "pipeline": _pipeline(
                    test_clips or num_segments, train=False, test_views=True, flip_label_map=None
                ),
                "args": args,
            },
        },
        "optim": {"type": "sgd", "lr": lr, "momentum": 0.9, "weight_decay": weight_decay, "grad_clip": 40.0},
        "schedule": {"epochs": epochs, "policy": "multistep", "milestones": milestones, "gamma": 0.1},
        "train": {"val_interval": 1, "ckpt_interval": 1, "best_metric": best_metric},
        "test": {"average": "score", "metrics": metrics or ["top1", "top5", "mean_class_accuracy"]},
    }


def clip_preset(
    *,
    model: str,
    dataset: str,
    num_classes: int,
    clip_len: int,
    frame_interval: int,
    epochs: int,
    lr: float,
    milestones: list[int],
    model_args: dict[str, Any] | None = None,
    split_args: dict[str, Any] | None = None,
    batch_size: int = 8,
    test_clips: int = 10,
    crop_size: int = 224,
    weight_decay: float = 1e-4,
) -> dict[str, Any]:
    """A 3D-model experiment (I3D/SlowOnly style): one ``clip_len`` x ``frame_interval`` clip, random
    resized crop and flip in training, centre crop in validation, ``test_clips`` clips x 3 crops in testing."""
    args = dict(split_args or {})
    sample = {"type": "SampleFrames", "clip_len": clip_len, "frame_interval": frame_interval, "num_clips": 1}
    tail = [
        {"type": "Normalize", "mean": IMAGENET_MEAN, "std": IMAGENET_STD, "on_device": True},
        {"type": "FormatShape", "input_format": "NCTHW"},
    ]
    train = [
        sample,
        {"type": "DecodeFrames"},
        {"type": "Resize", "scale": [-1, 256]},
        {"type": "RandomResizedCrop"},
        {"type": "Resize", "scale": [crop_size, crop_size], "keep_ratio": False},
        {"type": "Flip", "flip_ratio": 0.5},
        *tail,
    ]
    val = [
        sample | {"test_mode": True},
        {"type": "DecodeFrames"},
        {"type": "Resize", "scale": [-1, 256]},
        {"type": "CenterCrop", "crop_size": crop_size},
        *tail,
    ]
    test = [
        sample | {"num_clips": test_clips, "test_mode": True},
        {"type": "DecodeFrames"},
        {"type": "Resize", "scale": [-1, crop_size]},
        {"type": "ThreeCrop", "crop_size": crop_size},
        *tail,
    ]
    return {
        "model": {"type": model, "num_classes": num_classes, "args": dict(model_args or {})},
        "data": {
            "dataset": dataset,
            "root": "",
            "batch_size": batch_size,
            "workers": 4,
            "train": {"split": "train", "pipeline": train, "args": args},
            "val": {"split": "val", "pipeline": val, "args": args},
            "test": {"split": "test", "pipeline": test, "args": args},
        },
        "optim": {"type": "sgd", "lr": lr, "momentum": 0.9, "weight_decay": weight_decay, "grad_clip": 40.0},
        "schedule": {"epochs": epochs, "policy": "multistep", "milestones": milestones, "gamma": 0.1},
        "train": {"val_interval": 1, "ckpt_interval": 1, "best_metric": "top1"},
        "test": {"average": "score", "metrics": ["top1", "top5", "mean_class_accuracy"]},
    }
