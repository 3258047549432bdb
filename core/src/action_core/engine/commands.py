"""What ``action-run train / test / predict`` do, as plain functions the CLI calls after parsing arguments.

``source`` is a config file (TOML/YAML) or a preset name; ``overrides`` are ``dotted.key=value`` strings
(``--set``). Distributed runs: launch the CLI under ``torchrun`` (see :mod:`action_core.engine.distributed`).
Every task runs through the same engine: a localization preset trains and tests like a recognition one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from action_core.engine.schema import ExperimentConfig
from action_core.errors import ConfigError

logger = logging.getLogger("action_core.engine")

__all__ = [
    "default_work_dir",
    "experiment_of_checkpoint",
    "load_experiment",
    "plugin_callbacks",
    "read_label_map",
    "training_config",
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


def training_config(
    source: str | os.PathLike[str],
    overrides: Iterable[str] = (),
    *,
    amp: str | None = None,
    seed: int | None = None,
    data_root: str | None = None,
    videos: str | os.PathLike[str] | None = None,
    label_map: str | os.PathLike[str] | None = None,
    work_dir: str | os.PathLike[str] | None = None,
    init_from: str | None = None,
    freeze: str | None = None,
    lr_preset: str | None = None,
    write_lists: bool = False,
    reuse_lists: bool = False,
) -> tuple[ExperimentConfig, Any]:
    """The config ``action-run train`` (and ``config show``) builds: ``source`` (a config file, a preset
    or, with ``videos``, a model name), trained on ``videos`` when given (:mod:`action_core.engine.videos`;
    lists in ``WORK_DIR/lists``, written with ``write_lists``), fine-tuned from ``init_from`` with ``freeze``
    and the learning rate of ``lr_preset`` (:data:`~action_core.engine.finetune.LR_PRESETS`; default
    ``finetune``, or ``head`` for a frozen backbone, when ``init_from`` is given). ``--set`` overrides apply
    last, so an explicit ``optim.lr`` wins. Returns the validated config and the prepared videos (or None).
    """
    from action_core.config import apply_overrides, load_source
    from action_core.engine.finetune import LR_PRESETS, lr_preset_for

    prepared = None
    if videos is not None:
        from action_core.engine.videos import videos_config

        data, prepared, origin = videos_config(
            source,
            videos,
            work_dir=work_dir or default_work_dir(source),
            label_map=label_map,
            split_seed=seed or 0,
            write=write_lists,
            reuse=reuse_lists,
        )
        logger.warning("--videos %s: %s; recipe: %s", videos, prepared.describe(), origin)
    else:
        if label_map is not None:
            raise ConfigError("--label-map names the classes of --videos; give --videos DIR as well")
        data = load_source(source)
    train = data.setdefault("train", {})
    if init_from is not None:
        train["load_from"] = str(init_from)
    if freeze is not None:
        train["freeze"] = freeze
    if lr_preset is None and init_from is not None:
        lr_preset = lr_preset_for(freeze)
    if lr_preset is not None:
        if lr_preset not in LR_PRESETS:
            raise ConfigError(f"--lr-preset {lr_preset!r}: choose one of {', '.join(LR_PRESETS)}")
        mult, why = LR_PRESETS[lr_preset]
        optim = data.setdefault("optim", {})
        optim["backbone_lr_mult"] = mult
        lr = float(optim.get("lr", 0.01))
        logger.warning(
            "learning rate: head %g, backbone %g (--lr-preset %s: %s)", lr, lr * mult, lr_preset, why
        )
    data = apply_overrides(data, overrides)
    if amp is not None:
        data.setdefault("train", {})["amp"] = amp
    if seed is not None:
        data.setdefault("train", {})["seed"] = seed
    if data_root is not None:
        data.setdefault("data", {})["root"] = str(data_root)
    return ExperimentConfig.from_dict(data, source=str(source)), prepared


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
    videos: str | os.PathLike[str] | None = None,
    label_map: str | os.PathLike[str] | None = None,
    init_from: str | None = None,
    freeze: str | None = None,
    lr_preset: str | None = None,
) -> dict[str, float]:
    """``action-run train CONFIG_OR_PRESET_OR_MODEL [--videos DIR] [--from SOURCE] [--freeze ...]
    [--lr-preset ...] [--set k=v ...] [--work-dir] [--resume auto|PATH] [--overwrite] [--amp] [--seed]
    [--data-root]``: train and return the final metrics (see :func:`training_config`). With ``videos`` the
    clips are checked first with ``doctor``'s code. A work dir that holds a run needs ``resume`` or
    ``overwrite`` (see :mod:`action_core.engine.workdir`)."""
    from action_core.engine.trainer import Trainer

    work_dir = Path(work_dir or default_work_dir(source))
    cfg, prepared = training_config(
        source,
        overrides,
        amp=amp,
        seed=seed,
        data_root=data_root,
        videos=videos,
        label_map=label_map,
        work_dir=work_dir,
        init_from=init_from,
        freeze=freeze,
        lr_preset=lr_preset,
        write_lists=True,
        reuse_lists=resume is not None and not overwrite,
    )
    if prepared is not None:
        from action_core.engine.videos import check_videos

        logger.warning("checked the videos: %s", check_videos(cfg.to_dict(), workers=cfg.data.workers))
    trainer = Trainer(cfg, work_dir=work_dir, device=device, callbacks=callbacks)
    return trainer.fit(resume=resume, overwrite=overwrite)


def run_test(
    source: str | os.PathLike[str] | None,
    checkpoint: str | os.PathLike[str],
    *,
    overrides: Iterable[str] = (),
    views: str | None = None,
    out: str | os.PathLike[str] | None = None,
    data_root: str | None = None,
    device: str | None = None,
) -> dict[str, float]:
    """``action-run test [CONFIG_OR_PRESET] --checkpoint PATH [--views 10x3] [--out results.json]``: the
    classification metrics of a recognizer, the localization metrics of a localizer (``--out``: its
    proposals as an ActivityNet results JSON). Without a config, the one stored in the checkpoint (its
    test split)."""
    from action_core.engine.inference import test

    cfg = experiment_of_checkpoint(checkpoint, source, overrides, data_root=data_root)
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
            f"checkpoint {str(checkpoint)!r} does not carry its config (it was not written by `action-run "
            "train`); give the config or preset it was trained with"
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
    from action_core.engine.builders import build_dataset_from_config
    from action_core.engine.distributed import dist_info
    from action_core.engine.inference import model_for_checkpoint, pick_device, predict_per_video
    from action_core.localization.results_io import strip_video_prefix, write_activitynet_results
    from action_core.models.steps import model_task

    if split not in ("train", "val", "test"):
        raise ConfigError(f"--split {split!r}: choose train, val or test (the config's data.<split>)")
    cfg = experiment_of_checkpoint(checkpoint, config, overrides, data_root=data_root)
    model, _ = model_for_checkpoint(cfg, checkpoint)
    if model_task(model) != "localization":
        raise ConfigError(
            f"model {cfg.model.type!r} is not a localizer; `action-run predict VIDEO --checkpoint ...` gives a "
            "recognizer's labels"
        )
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
