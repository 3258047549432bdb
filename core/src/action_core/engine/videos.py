"""``--videos DIR``: an experiment config for one's own videos, from a preset, a config file or a model name.

:func:`videos_config` takes the recipe (a preset or config file as it is; for a bare model name, a preset
of that model, else a generic recipe for its input layout), points its data at the ``video_folder``
dataset (:mod:`action_core.datasets.folder`) with the split lists written under the work dir, sets
``model.num_classes`` to the folder's classes and drops what only made sense for the recipe's dataset
(a flip label map, the dataset's own arguments: tables replaced with ``_delete_``). Multi-label data gets a
multi-label loss and the mAP metric. :func:`check_videos` opens every clip with the code ``action-run
doctor`` runs and refuses to train on a folder with unreadable files.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from action_core.datasets.folder import CLASSES_FILE, SPLITS, PreparedVideos, prepare_video_folder
from action_core.errors import ActionError, ConfigError

__all__ = ["DataCheckError", "base_recipe", "check_videos", "lists_dir", "videos_config"]

logger = logging.getLogger("action_core.engine")

DATASET = "video_folder"


class DataCheckError(ActionError):
    """The videos to train on have unreadable, empty or too short files (``doctor``'s findings)."""


def lists_dir(work_dir: str | os.PathLike[str]) -> Path:
    """Where ``--videos`` writes the split lists and the label map: ``WORK_DIR/lists``."""
    return Path(work_dir) / "lists"


def _registry() -> Any:
    from action_core.plugins import get_host

    host = get_host()
    host.load_all()
    return host.registry


def _accepts(model: str, **kwargs: Any) -> bool:
    from action_core.models.compose import expand_model

    try:
        expand_model(model, **kwargs)
    except (ConfigError, TypeError):
        return False
    return True


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _preset_of_model(model: str) -> str | None:
    """A preset of ``model`` trained on real videos (Kinetics-400 first), if one is registered."""
    from action_core.config import load_source

    found = []
    for entry in _registry().entries("preset"):
        try:
            data = load_source(entry.name)
        except ActionError:
            continue
        if (data.get("model") or {}).get("type") == model and data["data"].get(
            "dataset"
        ) != "synthetic_motion":
            found.append(entry.name)
    # Kinetics-400 first, then in natural order: 8 segments before 16, 50 epochs before 100
    found.sort(key=lambda name: ("kinetics400" not in name, _natural(name)))
    return found[0] if found else None


def _generic_recipe(model: str) -> dict[str, Any]:
    from action_core.datasets.presets import clip_preset, recognition_preset

    spec = _registry().get("model", model).spec
    layout = getattr(spec, "input_format", "")
    args: dict[str, Any] = {"pretrained": True} if _accepts(model, pretrained=True) else {}
    common: dict[str, Any] = dict(
        model=model, dataset=DATASET, num_classes=2, epochs=30, lr=0.01, milestones=[20, 27]
    )
    if layout == "NTCHW":
        return recognition_preset(num_segments=8, model_args=args, batch_size=8, test_clips=8, **common)
    if layout == "NCTHW":
        # Models with fixed positional embeddings are told the clip length and crop size of the recipe.
        for key, value in (
            ("num_frames", 16),
            ("temporal_size", 16),
            ("img_size", 224),
            ("spatial_size", 224),
        ):
            if _accepts(model, **{key: value}):
                args[key] = value
        return clip_preset(clip_len=16, frame_interval=4, model_args=args, batch_size=8, **common)
    raise ConfigError(
        f"model {model!r} registers no input_format (NTCHW or NCTHW), so no recipe can be made for it; give "
        "a preset or config file of it instead (`action-run list presets`)"
    )


def base_recipe(source: str | os.PathLike[str]) -> tuple[dict[str, Any], str]:
    """The recipe ``--videos`` starts from, and what it is: a config file or preset as it is; for a
    registered model name, a preset of it (trained on real videos), else a generic recipe."""
    from action_core.config import load_source

    text = str(source)
    registry = _registry()
    if Path(text).exists() or ("preset", text) in registry or ("model", text) not in registry:
        return load_source(source), f"config {text!r}"
    preset = _preset_of_model(text)
    if preset is not None:
        return load_source(preset), f"model {text!r} with the recipe of preset {preset!r}"
    return _generic_recipe(text), f"model {text!r} with a generic recipe for its input layout"


def _without_flip_label_map(pipeline: list[Any]) -> list[Any]:
    return [
        {k: v for k, v in step.items() if k != "flip_label_map"} if isinstance(step, Mapping) else step
        for step in pipeline
    ]


def _multi_label_model(model: dict[str, Any]) -> dict[str, Any]:
    if any(isinstance(model.get(p), Mapping) for p in ("backbone", "neck", "head")):
        head = dict(model.get("head") or {})
        head["loss"] = {"type": "bce_with_logits"}
        return {**model, "head": head}
    if not _accepts(model["type"], multi_label=True):
        raise ConfigError(
            f"the videos are multi-label (rows with several labels) but model {model['type']!r} takes no "
            'multi_label argument; use a composed config with [model.head.loss] type = "bce_with_logits"'
        )
    return {**model, "args": {**dict(model.get("args") or {}), "multi_label": True}}


def videos_config(
    source: str | os.PathLike[str],
    videos: str | os.PathLike[str],
    *,
    work_dir: str | os.PathLike[str],
    label_map: str | os.PathLike[str] | None = None,
    split_seed: int = 0,
    write: bool = True,
    reuse: bool = False,
) -> tuple[dict[str, Any], PreparedVideos, str]:
    """The config data of ``source`` trained on ``videos``, the prepared split, and where the recipe came from.

    ``write``: write the split lists and the label map into ``WORK_DIR/lists`` (``config show`` only looks);
    ``reuse``: keep lists already there (a resumed run trains on the split it started with).
    """
    from action_core.config import merge

    recipe, origin = base_recipe(source)
    out = lists_dir(work_dir)
    names: Any = label_map
    if reuse and (out / CLASSES_FILE).is_file() and all((out / f"{s}.txt").is_file() for s in SPLITS):
        names = str(out / CLASSES_FILE)
        write = False
        prepared = prepare_video_folder(videos, out, classes=names, seed=split_seed, write=False)
    else:
        prepared = prepare_video_folder(videos, out, classes=names, seed=split_seed, write=write)
    lists = str(out.resolve())
    root = str(Path(videos).resolve())
    child: dict[str, Any] = {
        "model": {"num_classes": len(prepared.classes)},
        "data": {
            "dataset": DATASET,
            "root": root,
            **{
                split: {
                    "split": split,
                    "args": {"_delete_": True, "lists": lists, "multi_label": prepared.multi_label},
                }
                for split in SPLITS
            },
        },
    }
    data = merge(recipe, child)
    for split in SPLITS:
        table = data["data"].get(split) or {}
        if "pipeline" in table:
            table["pipeline"] = _without_flip_label_map(list(table["pipeline"]))
    if prepared.multi_label:
        data["model"] = _multi_label_model(dict(data["model"]))
        data.setdefault("test", {})["metrics"] = ["mAP"]
        data.setdefault("train", {})["best_metric"] = "mAP"
    return data, prepared, origin


def check_videos(data: Mapping[str, Any], *, workers: int = 1) -> str:
    """Open every clip of every split of a ``--videos`` config with ``doctor``'s checks; raise
    :class:`DataCheckError` with the summary when any is unreadable, empty or out of range. Returns the
    summary line."""
    import action_core
    from action_core.datasets.doctor import check_items, items_of_dataset

    items = []
    classes: list[str] = []
    for split in SPLITS:
        table = data["data"][split]
        dataset = action_core.build_dataset(
            data["data"]["dataset"],
            split=table["split"],
            root=data["data"]["root"],
            pipeline=[],
            test_mode=True,
            **{k: v for k, v in table.get("args", {}).items() if k != "_delete_"},
        )
        classes = list(getattr(dataset, "classes", []) or classes)
        items += items_of_dataset(dataset)
    report = check_items(
        items, target=str(data["data"]["root"]), num_classes=len(classes) or None, workers=workers
    )
    if report.faults:
        raise DataCheckError(
            report.summary()
            + "\nfix or remove these files (or list only the good ones) and run the command again; "
            f"`action-run doctor {DATASET} --root {data['data']['root']}` writes a full JSON report"
        )
    return report.summary().splitlines()[0]
