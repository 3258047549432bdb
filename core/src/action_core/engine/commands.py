"""What ``action-run train / test / predict`` do, as plain functions the CLI calls after parsing arguments.

``source`` is a config file (TOML/YAML) or a preset name; ``overrides`` are ``dotted.key=value`` strings
(``--set``). Distributed runs: launch the CLI under ``torchrun`` (see :mod:`action_core.engine.distributed`).
Every task runs through the same engine: a localization preset trains and tests like a recognition one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from action_core.engine.schema import ExperimentConfig
from action_core.errors import ConfigError

__all__ = [
    "default_work_dir",
    "experiment_of_checkpoint",
    "load_experiment",
    "plugin_callbacks",
    "read_label_map",
    "run_localize",
    "run_predict",
    "run_test",
    "run_train",
]


def load_experiment(
    source: str | os.PathLike[str],
    overrides: Iterable[str] = (),
    *,
    amp: str | None = None,
    seed: int | None = None,
    data_root: str | None = None,
) -> ExperimentConfig:
    """Resolve a config file or preset, apply ``--set`` overrides and the ``--amp`` / ``--seed`` /
    ``--data-root`` shortcuts, and validate it (errors name the dotted key and the source)."""
    from action_core.config import apply_overrides, load_source

    data = apply_overrides(load_source(source), overrides)
    if amp is not None:
        data.setdefault("train", {})["amp"] = amp
    if seed is not None:
        data.setdefault("train", {})["seed"] = seed
    if data_root is not None:
        data.setdefault("data", {})["root"] = str(data_root)
    return ExperimentConfig.from_dict(data, source=str(source))


def default_work_dir(source: str | os.PathLike[str]) -> Path:
    """``work_dirs/<config file stem or preset name>``, MMAction2's convention."""
    return Path("work_dirs") / Path(str(source)).stem


def plugin_callbacks() -> list[Any]:
    """The installed plugins' run-time hooks (``action_on_train_start`` ...) as Trainer callbacks: what
    ``action-run train`` observes a run with."""
    from action_core.engine.callbacks import PluginHookCallback
    from action_core.plugins import get_host

    host = get_host()
    host.load_all()
    return [PluginHookCallback(host.hook)]


def run_train(
    source: str | os.PathLike[str],
    *,
    overrides: Iterable[str] = (),
    work_dir: str | os.PathLike[str] | None = None,
    resume: str | None = None,
    overwrite: bool = False,
    amp: str | None = None,
    seed: int | None = None,
    data_root: str | None = None,
    device: str | None = None,
    callbacks: Sequence[Any] = (),
) -> dict[str, float]:
    """``action-run train CONFIG_OR_PRESET [--set k=v ...] [--work-dir] [--resume auto|PATH] [--overwrite]
    [--amp] [--seed] [--data-root]``: train and return the final metrics. A work dir that holds a run
    needs ``resume`` or ``overwrite`` (see :mod:`action_core.engine.workdir`)."""
    from action_core.engine.trainer import Trainer

    cfg = load_experiment(source, overrides, amp=amp, seed=seed, data_root=data_root)
    trainer = Trainer(cfg, work_dir=work_dir or default_work_dir(source), device=device, callbacks=callbacks)
    return trainer.fit(resume=resume, overwrite=overwrite)


def run_test(
    source: str | os.PathLike[str],
    checkpoint: str | os.PathLike[str],
    *,
    overrides: Iterable[str] = (),
    views: str | None = None,
    out: str | os.PathLike[str] | None = None,
    data_root: str | None = None,
    device: str | None = None,
) -> dict[str, float]:
    """``action-run test CONFIG_OR_PRESET --checkpoint PATH [--views 10x3] [--out results.json]``: the
    classification metrics of a recognizer, the localization metrics of a localizer (``--out``: its
    proposals as an ActivityNet results JSON)."""
    from action_core.engine.inference import test

    cfg = load_experiment(source, overrides, data_root=data_root)
    return test(cfg, checkpoint, views=views, out=out, device=device)


def experiment_of_checkpoint(
    checkpoint: str | os.PathLike[str],
    config: str | os.PathLike[str] | None = None,
    overrides: Iterable[str] = (),
    *,
    data_root: str | None = None,
) -> ExperimentConfig:
    """``config`` (with ``overrides``) when given, else the config the trainer stored in ``checkpoint``."""
    if config is not None:
        return load_experiment(config, overrides, data_root=data_root)
    from action_core.config import apply_overrides
    from action_core.engine.checkpoint import load_checkpoint

    stored = (load_checkpoint(checkpoint).get("meta") or {}).get("config")
    if stored is None:
        raise ConfigError(
            f"checkpoint {str(checkpoint)!r} does not carry its config; pass the config it was trained "
            "with (--config CONFIG_OR_PRESET)"
        )
    data = apply_overrides(stored, overrides)
    if data_root is not None:
        data.setdefault("data", {})["root"] = str(data_root)
    return ExperimentConfig.from_dict(data, source=f"config stored in {str(checkpoint)!r}")


def run_localize(
    checkpoint: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    config: str | os.PathLike[str] | None = None,
    overrides: Iterable[str] = (),
    split: str = "test",
    data_root: str | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """``action-run localize --checkpoint PATH --out proposals.json [--config C] [--split test]``: a
    localizer's proposals for every video of a split (no ground truth needed), written as an ActivityNet
    results JSON (video ids without MMAction2's ``v_`` prefix); returns ``{video: proposals}``."""
    from action_core.engine.builders import build_dataset_from_config, build_model_from_config
    from action_core.engine.distributed import dist_info
    from action_core.engine.inference import load_weights, pick_device, predict_per_video
    from action_core.localization.results_io import strip_video_prefix, write_activitynet_results
    from action_core.models.steps import model_task

    if split not in ("train", "val", "test"):
        raise ConfigError(f"--split {split!r}: choose train, val or test (the config's data.<split>)")
    cfg = experiment_of_checkpoint(checkpoint, config, overrides, data_root=data_root)
    model = build_model_from_config(cfg)
    if model_task(model) != "localization":
        raise ConfigError(
            f"model {cfg.model.type!r} is not a localizer; `action-run predict VIDEO --checkpoint ...` gives a "
            "recognizer's labels"
        )
    load_weights(model, checkpoint)
    device_ = pick_device(device)
    model.to(device_)
    dataset = build_dataset_from_config(cfg, split)
    proposals = predict_per_video(
        model, dataset, batch_size=cfg.data.batch_size, workers=cfg.data.workers, device=device_
    )
    if dist_info().is_main:
        write_activitynet_results(out, {strip_video_prefix(k): v for k, v in proposals.items()})
    return proposals


def read_label_map(path: str | os.PathLike[str]) -> list[str]:
    """Class names, one per line (MMAction2's label map files); blank lines are ignored."""
    try:
        names = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()]
    except OSError as e:
        raise ConfigError(f"cannot read the label map {str(path)!r}: {e.strerror or e}") from e
    names = [n for n in names if n]
    if not names:
        raise ConfigError(f"the label map {str(path)!r} is empty; write one class name per line")
    return names


def run_predict(
    video: str | os.PathLike[str],
    checkpoint: str | os.PathLike[str],
    *,
    config: str | os.PathLike[str] | None = None,
    overrides: Iterable[str] = (),
    label_map: str | os.PathLike[str] | None = None,
    top_k: int = 5,
    views: str | None = None,
    out_video: str | os.PathLike[str] | None = None,
    device: str | None = None,
) -> list[tuple[str, float]]:
    """``action-run predict VIDEO --checkpoint PATH [--config C] [--label-map F] [--top-k 5] [--views]
    [--out-video out.mp4]``: top-k ``(label, score)``; the config defaults to the one stored in the
    checkpoint by the trainer."""
    from action_core.engine.inference import predict_video
    from action_core.engine.overlay import write_overlay_video

    cfg = experiment_of_checkpoint(checkpoint, config, overrides)
    classes = read_label_map(label_map) if label_map is not None else None
    top = predict_video(cfg, checkpoint, video, top_k=top_k, classes=classes, views=views, device=device)
    if out_video is not None:
        write_overlay_video(video, out_video, top)
    return top
