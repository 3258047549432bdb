"""Evaluation, multi-view testing, single-clip prediction and per-video localization, for every task.

The model is run through its prediction step (:mod:`action_core.models.steps`); its ``task`` picks the
evaluation:

- recognition: every dataset item carries its views as ``inputs`` (V, ...) (V = clips x crops), so a batch
  is (N, V, ...); the step folds the views into the batch and gives (N, V, K) logits, averaged per sample
  with :func:`action_core.models.average_views` (``score`` or ``prob``), then the classification metrics;
- localization: the step gives each video's proposals, which the localization metrics (``activitynet_proposal``:
  AR@AN, AUC) compare with the dataset's ``ground_truth()``.

Under ``torchrun`` each rank predicts an unpadded shard and the per-sample results are gathered and
de-duplicated by dataset index, so every sample counts exactly once and every rank gets the same metrics.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence, Sized
from pathlib import Path
from typing import Any, Literal, cast

import attrs
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from action_core.data.multiview import apply_views, parse_views, trained_segments
from action_core.engine.checkpoint import (
    CheckpointError,
    check_model_type,
    load_checkpoint,
    model_state_from_checkpoint,
)
from action_core.engine.distributed import EvalShardSampler, all_gather_objects, dist_info, init_distributed
from action_core.engine.schema import ExperimentConfig
from action_core.engine.step_module import as_step_module, prepare_batch, stepped_model
from action_core.errors import ConfigError
from action_core.models.steps import model_task
from action_core.models.views import fold_views

__all__ = [
    "Predictions",
    "VideoPredictions",
    "apply_views",
    "autocast",
    "batch_inputs",
    "collect_predictions",
    "collect_video_predictions",
    "compute_localization_metrics",
    "compute_metrics",
    "evaluate",
    "evaluate_model",
    "fold_views",
    "make_eval_loader",
    "load_model",
    "load_weights",
    "model_for_checkpoint",
    "parse_views",
    "pick_device",
    "to_model_layout",
    "views_pipeline",
    "predict",
    "predict_per_video",
    "predict_video",
    "probabilities",
    "test",
]

_AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` as a :class:`torch.device`; by default the local rank's GPU when there is one, else CPU."""
    if device is not None:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def autocast(device: torch.device, amp: str) -> contextlib.AbstractContextManager[Any]:
    """Autocast to bf16 / fp16 on ``device`` (``amp="none"``: full precision)."""
    if amp == "none":
        return contextlib.nullcontext()
    if amp not in _AMP_DTYPES:
        raise ConfigError(f"amp = {amp!r} is not allowed; choose one of none, bf16, fp16")
    return torch.autocast(device_type=device.type, dtype=_AMP_DTYPES[amp])


def batch_inputs(batch: dict[str, Any], device: torch.device) -> torch.Tensor:
    """A batch's ``inputs`` on ``device`` (non-blocking copy), normalised there when the pipeline deferred
    it (``Normalize(on_device=True)`` puts uint8 frames and a ``norm`` entry in the batch)."""
    from action_core.data import normalize_batch

    return normalize_batch(batch["inputs"].to(device, non_blocking=True), batch.get("norm"))


def to_model_layout(inputs: torch.Tensor, model: nn.Module, channels_last: bool) -> torch.Tensor:
    """With ``channels_last``: 3D-model clips in ``channels_last_3d``, 4-D inputs in ``channels_last``."""
    if channels_last and inputs.ndim == 5 and getattr(model, "input_format", "") == "NCTHW":
        return inputs.contiguous(memory_format=torch.channels_last_3d)
    if channels_last and inputs.ndim == 4:
        return inputs.contiguous(memory_format=torch.channels_last)
    return inputs


@attrs.frozen
class Predictions:
    """Per-sample averaged scores, in dataset-index order, each sample once (recognition)."""

    indices: np.ndarray  # (N,) int64
    scores: np.ndarray  # (N, K) float32
    labels: np.ndarray  # (N,) int64 or (N, K) multi-hot


@attrs.frozen
class VideoPredictions:
    """Per-video results of a prediction step, in dataset-index order, each video once (localization)."""

    indices: np.ndarray  # (N,) int64
    names: list[str]
    results: list[Any]  # per video: proposals [{"segment", "score"}, ...] or an intermediate array

    def as_dict(self) -> dict[str, Any]:
        """``{video name: result}``."""
        return dict(zip(self.names, self.results, strict=True))


def _sample_indices(batch: Mapping[str, Any], position: int, loader: DataLoader, n: int) -> torch.Tensor:
    index = batch.get("index")
    if index is None:
        if _rank_and_world()[1] > 1:
            raise ValueError(
                "distributed evaluation needs each item's dataset 'index' to count samples once; "
                "return {'inputs', 'label', 'index'} from the dataset"
            )
        start = position * (loader.batch_size or n)
        return torch.arange(start, start + n)
    return torch.as_tensor(index).cpu().long()


def _first_occurrences(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique dataset indices and, for each, the position of its first occurrence."""
    order = np.argsort(indices, kind="stable")
    unique_indices, first = np.unique(indices[order], return_index=True)
    return unique_indices.astype(np.int64), order[first]


def _predict_batches(
    model: nn.Module,
    loader: DataLoader,
    *,
    device: torch.device,
    amp: str,
    channels_last: bool,
    progress: bool,
    desc: str,
) -> Iterator[tuple[int, Mapping[str, Any], Any]]:
    """``(position, batch, predict_step output)`` over ``loader``, in eval mode and inference mode."""
    step = as_step_module(model)
    inner = stepped_model(step)
    was_training = step.training
    step.eval()
    bar = tqdm(loader, desc=desc, unit="batch", disable=not (progress and _rank_and_world()[0] == 0),
               dynamic_ncols=True)  # fmt: skip
    try:
        with torch.inference_mode():
            for position, batch in enumerate(bar):
                prepared = prepare_batch(batch, device, model=inner, channels_last=channels_last)
                with autocast(device, amp):
                    output = step(prepared, "predict")
                yield position, batch, output
    finally:
        bar.close()
        step.train(was_training)


def collect_predictions(
    model: nn.Module,
    loader: DataLoader,
    *,
    average: str = "score",
    device: torch.device | str | None = None,
    amp: str = "none",
    channels_last: bool = False,
    progress: bool = True,
    desc: str = "eval",
) -> Predictions:
    """Run a recognizer's prediction step over ``loader`` and gather the view-averaged scores of every rank,
    de-duplicated by index."""
    from action_core.models.views import average_views

    device = pick_device(device)
    indices: list[torch.Tensor] = []
    scores: list[torch.Tensor] = []
    labels: list[torch.Tensor] = []
    batches = _predict_batches(
        model, loader, device=device, amp=amp, channels_last=channels_last, progress=progress, desc=desc
    )
    for position, batch, output in batches:
        logits = output.float()
        averaged = (
            average_views(logits, cast(Literal["score", "prob"], average)) if logits.ndim == 3 else logits
        )
        scores.append(averaged.cpu())
        labels.append(torch.as_tensor(batch["label"]).cpu())
        indices.append(_sample_indices(batch, position, loader, len(averaged)))
    local = (
        torch.cat(indices) if indices else torch.empty(0, dtype=torch.long),
        torch.cat(scores) if scores else torch.empty(0),
        torch.cat(labels) if labels else torch.empty(0, dtype=torch.long),
    )
    parts = [p for p in all_gather_objects(local) if p[0].numel()]
    if not parts:
        raise ValueError("the evaluation loader produced no samples; check the dataset split and its size")
    all_indices = torch.cat([p[0] for p in parts]).numpy()
    all_scores = torch.cat([p[1] for p in parts]).numpy()
    all_labels = torch.cat([p[2] for p in parts]).numpy()
    unique_indices, keep = _first_occurrences(all_indices)
    return Predictions(unique_indices, all_scores[keep], all_labels[keep])


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, list):
        return [_to_cpu(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_cpu(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _to_cpu(v) for k, v in value.items()}
    return value


def collect_video_predictions(
    model: nn.Module,
    loader: DataLoader,
    *,
    device: torch.device | str | None = None,
    amp: str = "none",
    progress: bool = True,
    desc: str = "eval",
) -> VideoPredictions:
    """Run a localizer's prediction step over ``loader`` (``(video_name, result)`` per sample) and gather
    the results of every rank, de-duplicated by index."""
    device = pick_device(device)
    local: list[tuple[int, str, Any]] = []
    batches = _predict_batches(
        model, loader, device=device, amp=amp, channels_last=False, progress=progress, desc=desc
    )
    for position, batch, output in batches:
        pairs = list(output)
        index = _sample_indices(batch, position, loader, len(pairs))
        if len(index) != len(pairs):
            raise ValueError(
                f"predict_step gave {len(pairs)} results for a batch of {len(index)} samples; a localizer "
                "returns one (video_name, result) pair per sample"
            )
        for i, (name, result) in zip(index.tolist(), pairs, strict=True):
            local.append((i, str(name), _to_cpu(result)))
    gathered = [item for part in all_gather_objects(local) for item in part]
    if not gathered:
        raise ValueError("the evaluation loader produced no samples; check the dataset split and its size")
    unique_indices, keep = _first_occurrences(np.asarray([g[0] for g in gathered], dtype=np.int64))
    return VideoPredictions(unique_indices, [gathered[k][1] for k in keep], [gathered[k][2] for k in keep])


def _rank_and_world() -> tuple[int, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def compute_metrics(metrics: Sequence[Any], predictions: Predictions) -> dict[str, float]:
    """Feed the gathered predictions to each metric and merge their ``compute()`` dicts."""
    from action_core.engine.builders import build_metrics

    results: dict[str, float] = {}
    for metric in build_metrics(metrics):
        metric.reset()
        metric.update(predictions.scores, predictions.labels)
        results.update({k: float(v) for k, v in metric.compute().items()})
    return results


def compute_localization_metrics(
    metrics: Sequence[Any], predictions: VideoPredictions, ground_truth: Mapping[str, Any]
) -> dict[str, float]:
    """Feed every video's predictions and the ground truth (``{video: [{"segment", "label"}]}``) to each
    localization metric (``update(predictions, ground_truth)``) and merge their ``compute()`` dicts."""
    from action_core.engine.builders import build_metrics

    results: dict[str, float] = {}
    for metric in build_metrics(metrics):
        metric.reset()
        metric.update(predictions.as_dict(), ground_truth)
        results.update({k: float(v) for k, v in metric.compute().items()})
    return results


def _ground_truth(dataset: Any) -> Mapping[str, Any]:
    ground_truth = getattr(dataset, "ground_truth", None)
    if not callable(ground_truth):
        raise ConfigError(
            f"localization metrics need the dataset's ground truth; {type(dataset).__name__} has no "
            "ground_truth() method returning {video name: [{'segment': [t0, t1], 'label'}]}"
        )
    return ground_truth()


def evaluate_model(
    model: nn.Module,
    loader: DataLoader,
    metrics: Sequence[Any],
    *,
    average: str = "score",
    device: torch.device | str | None = None,
    amp: str = "none",
    channels_last: bool = False,
    progress: bool = True,
    desc: str = "eval",
) -> tuple[dict[str, float], Predictions | VideoPredictions]:
    """Predict over ``loader`` and compute ``metrics`` as the model's task says; returns the metrics and the
    gathered predictions (the same on every rank)."""
    device = pick_device(device)
    if model_task(stepped_model(model)) == "localization":
        videos = collect_video_predictions(
            model, loader, device=device, amp=amp, progress=progress, desc=desc
        )
        results = (
            compute_localization_metrics(metrics, videos, _ground_truth(loader.dataset)) if metrics else {}
        )
        return results, videos
    predictions = collect_predictions(
        model,
        loader,
        average=average,
        device=device,
        amp=amp,
        channels_last=channels_last,
        progress=progress,
        desc=desc,
    )
    return compute_metrics(metrics, predictions), predictions


def evaluate(
    model: nn.Module,
    loader: DataLoader,
    *,
    metrics: Sequence[Any] = ("top1", "top5"),
    average: str = "score",
    device: torch.device | str | None = None,
    amp: str = "none",
    progress: bool = True,
) -> dict[str, float]:
    """Metrics of ``model`` over ``loader``: for a recognizer batches of ``{"inputs": (N, V, ...), "label",
    "index"}``, for a localizer localization samples (the dataset provides ``ground_truth()``).

    ``metrics`` are names (``top1``, ``top5``, ``mean_class_accuracy``, ``mAP``, ``activitynet_proposal``, a
    registered metric) or metric objects. Distributed: give each rank an unpadded shard
    (``EvalShardSampler``); the result counts every sample once and is the same on every rank. Also returns
    ``num_samples``.
    """
    results, predictions = evaluate_model(
        model, loader, metrics, average=average, device=device, amp=amp, progress=progress
    )
    results["num_samples"] = float(len(predictions.indices))
    return results


def make_eval_loader(dataset: Dataset, *, batch_size: int, workers: int = 0, seed: int = 0) -> DataLoader:
    """An unpadded shard of ``dataset`` for this rank, batched with the dataset's ``collate`` if it has one."""
    info = dist_info()
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=EvalShardSampler(len(cast(Sized, dataset)), rank=info.rank, world_size=info.world_size),
        num_workers=workers,
        collate_fn=getattr(dataset, "collate", None),
        generator=torch.Generator().manual_seed(seed),
    )


def predict_per_video(
    model: nn.Module,
    dataset: Dataset,
    *,
    batch_size: int = 1,
    workers: int = 0,
    device: torch.device | str | None = None,
    amp: str = "none",
    progress: bool = True,
) -> dict[str, Any]:
    """``{video name: result}`` of a localizer's prediction step over a whole dataset (no ground truth
    needed); distributed under ``torchrun``, every rank gets every video."""
    device = pick_device(device)
    init_distributed(device)
    loader = make_eval_loader(dataset, batch_size=batch_size, workers=workers)
    return collect_video_predictions(
        model, loader, device=device, amp=amp, progress=progress, desc="predict"
    ).as_dict()


def predict(
    model: nn.Module,
    clip: torch.Tensor,
    *,
    top_k: int = 5,
    classes: Sequence[str] | None = None,
    average: str = "prob",
    multi_label: bool = False,
    device: torch.device | str | None = None,
    norm: torch.Tensor | None = None,
    amp: str = "none",
    channels_last: bool = False,
) -> list[tuple[str, float]]:
    """Top-k ``(label, score)`` of one sample: ``clip`` is a dataset item's ``inputs`` (V, ...) or a single
    4-D view. Scores are probabilities (softmax, or sigmoid when ``multi_label``), averaged over views.
    ``norm``: the item's ``norm`` entry when its pipeline deferred normalisation to the device. ``amp`` /
    ``channels_last``: the precision and input layout to run at (resolved, see
    :func:`action_core.hardware.choose_speed`; the model's weights already in that layout)."""
    from action_core.models.views import average_views

    device = pick_device(device)
    if clip.ndim == 4:
        clip = clip.unsqueeze(0)
    step = as_step_module(model)
    batch = (
        {"inputs": clip.unsqueeze(0)} if norm is None else {"inputs": clip.unsqueeze(0), "norm": norm[None]}
    )
    was_training = step.training
    step.eval()
    try:
        with torch.inference_mode():
            prepared = prepare_batch(batch, device, model=stepped_model(step), channels_last=channels_last)
            with autocast(device, amp):
                output = step(prepared, "predict").float()
    finally:
        step.train(was_training)
    logits = output.reshape(-1, output.shape[-1])  # (V, K) per view, or (1, K) already averaged
    if multi_label:
        probs = logits.sigmoid().mean(dim=0)
    else:
        probs = average_views(logits.unsqueeze(0), cast(Literal["score", "prob"], average))[0]
        if average == "score":
            probs = probs.softmax(dim=0)
    if classes is not None and len(classes) != probs.numel():
        raise ValueError(f"{len(classes)} class names given but the model predicts {probs.numel()} classes")
    values, order = probs.topk(min(top_k, probs.numel()))
    names = list(classes) if classes is not None else [str(i) for i in range(probs.numel())]
    return [(names[i], float(p)) for p, i in zip(values.tolist(), order.tolist(), strict=True)]


def load_weights(
    model: nn.Module,
    checkpoint: str | os.PathLike[str] | Mapping[str, Any],
    *,
    strict: bool = True,
    source: str | None = None,
) -> dict[str, Any]:
    """Load a checkpoint's model weights into ``model`` (safely, ``weights_only``); returns the checkpoint.

    ``checkpoint`` is a file or an already loaded checkpoint (``source`` names it in errors)."""
    if isinstance(checkpoint, Mapping):
        state = dict(checkpoint)
        source = source or "checkpoint"
    else:
        state = load_checkpoint(checkpoint)
        source = source or f"checkpoint {str(checkpoint)!r}"
    weights = model_state_from_checkpoint(state, source=source)
    try:
        model.load_state_dict(weights, strict=strict)
    except RuntimeError as e:
        raise CheckpointError(
            f"{source} does not fit the {type(model).__name__} model: {e}. Check that "
            "the config's model type and num_classes are those it was trained with, or convert it first"
        ) from e
    return state


def model_for_checkpoint(
    cfg: ExperimentConfig, checkpoint: str | os.PathLike[str]
) -> tuple[nn.Module, dict[str, Any]]:
    """``cfg``'s model with ``checkpoint``'s weights, built without loading initial weights (nothing is
    downloaded, no ``weights`` file is read: the checkpoint replaces them). A training checkpoint of
    another model type is refused naming both. Returns the model and the loaded checkpoint."""
    from action_core.engine.builders import build_model_from_config

    source = f"checkpoint {str(checkpoint)!r}"
    state = load_checkpoint(checkpoint)
    check_model_type(state, cfg.to_dict()["model"], source=source)
    model = build_model_from_config(cfg, initial_weights=False)
    load_weights(model, state, source=source)
    return model, state


def views_pipeline(cfg: ExperimentConfig, views: str | tuple[int, int]) -> list[dict[str, Any]]:
    """``cfg``'s test pipeline rewritten for ``views`` (``"CLIPSxCROPS"``,
    :func:`~action_core.data.multiview.apply_views`): a 2D model's clips hold the segment count it was
    trained with (the training pipeline's, else ``model.args.num_segments``), and a three-crop pipeline's
    input size is the validation pipeline's centre crop."""
    segments = trained_segments(cfg.data.train.pipeline)
    if segments is None and isinstance(cfg.model.args.get("num_segments"), int):
        segments = int(cfg.model.args["num_segments"])
    centre = next((s for s in cfg.data.val.pipeline if s.get("type") == "CenterCrop"), None)
    crop_size = centre.get("crop_size") if centre is not None else None
    return apply_views(
        cfg.data.test.pipeline,
        views,
        segments=segments,
        crop_size=crop_size if isinstance(crop_size, int) else None,
    )


def test(
    cfg: ExperimentConfig,
    checkpoint: str | os.PathLike[str],
    *,
    views: str | tuple[int, int] | None = None,
    out: str | os.PathLike[str] | None = None,
    model: nn.Module | None = None,
    dataset: Dataset | None = None,
    device: torch.device | str | None = None,
    batch_size: int | None = None,
    progress: bool = True,
) -> dict[str, float]:
    """Test ``checkpoint`` on ``cfg``'s test split; returns ``cfg.test.metrics`` and ``num_samples``.

    A recognizer is tested on several views: ``views`` (``"clips x crops"``) overrides the test pipeline's
    sampling (:func:`views_pipeline`), and ``out`` (rank 0) writes a JSON file with the metrics and, per
    sample, its file path, label (and name), class probabilities (:func:`probabilities`) and top-5 class
    names with theirs. The model is built without initial weights (the checkpoint's replace them) and a
    checkpoint of another model type is refused (:func:`model_for_checkpoint`). A localizer's proposals are evaluated with the localization metrics against the dataset's
    ground truth, and ``out`` gets them as an official ActivityNet results JSON (video ids without
    MMAction2's ``v_`` prefix). Runs distributed under ``torchrun``. ``model`` / ``dataset`` replace the
    registered builders (then ``views`` cannot be used).
    """
    if views is not None and dataset is not None:
        raise ValueError("views rewrites the test pipeline of cfg; it cannot apply to a dataset passed in")
    device = pick_device(device)
    info = init_distributed(device)
    if model is None:
        model, state = model_for_checkpoint(cfg, checkpoint)
    else:
        state = load_weights(model, checkpoint)
    model.to(device)
    localization = model_task(model) == "localization"
    if views is not None and localization:
        raise ConfigError(f"views apply to recognizers; {type(model).__name__} is a localizer")
    if dataset is None:
        from action_core.engine.builders import build_dataset_from_config

        if views is not None:
            cfg = attrs.evolve(
                cfg,
                data=attrs.evolve(
                    cfg.data,
                    test=attrs.evolve(cfg.data.test, pipeline=views_pipeline(cfg, views)),
                ),
            )
        dataset = build_dataset_from_config(cfg, "test")
    loader = make_eval_loader(
        dataset, batch_size=batch_size or cfg.data.batch_size, workers=cfg.data.workers, seed=cfg.train.seed
    )
    # the inference fast path: precision / memory format for this device, batch norm folded (checked on
    # the first sample), compiled where chosen
    from action_core.engine.fastpath import inference_model

    foldable = cfg.test.fold_bn and not localization and len(cast(Sized, dataset)) > 0
    example = loader.collate_fn([dataset[0]]) if foldable else None
    runner, speed = inference_model(
        model,
        example,
        device=device,
        amp=cfg.train.amp,
        channels_last=cfg.train.channels_last,
        compile=cfg.train.compile,
        fold_bn=cfg.test.fold_bn,
        tune_memory=cfg.train.tune_memory,
        log=info.is_main,
    )
    results, predictions = evaluate_model(
        runner,
        loader,
        cfg.test.metrics,
        average=cfg.test.average,
        device=device,
        amp=str(speed.amp.value),
        channels_last=bool(speed.channels_last.value),
        progress=progress,
        desc="test",
    )
    results["num_samples"] = float(len(predictions.indices))
    if out is not None and info.is_main:
        if isinstance(predictions, VideoPredictions):
            _write_proposals(Path(out), predictions, model)
        else:
            meta = state.get("meta") or {}
            _write_results(
                Path(out),
                results,
                predictions,
                getattr(dataset, "classes", None) or meta.get("classes"),
                checkpoint=str(checkpoint),
                views=views,
                paths=_media_paths(dataset),
                average=cfg.test.average,
                multi_label=bool(getattr(dataset, "multi_label", meta.get("multi_label", False))),
            )
    return results


def _write_proposals(path: Path, predictions: VideoPredictions, model: nn.Module) -> None:
    from action_core.localization.results_io import strip_video_prefix, write_activitynet_results

    try:
        write_activitynet_results(
            path,
            {strip_video_prefix(n): r for n, r in zip(predictions.names, predictions.results, strict=True)},
        )
    except (ValueError, TypeError) as e:
        raise ConfigError(
            f"--out writes proposals as an ActivityNet results JSON, but {type(model).__name__}'s predictions "
            f"are not proposals ({e}); an intermediate stage's outputs are written by its plugin's command"
        ) from e


def _media_paths(dataset: Any) -> list[str] | None:
    records = getattr(dataset, "records", None)
    if records is None:
        return None
    return [str(getattr(r, "path", None) or getattr(r, "frame_dir", "")) for r in records]


def probabilities(scores: np.ndarray, *, average: str, multi_label: bool) -> np.ndarray:
    """Class probabilities of view-averaged scores: sigmoid for a multi-label model, else softmax of the
    averaged logits (``average="score"``) or the averaged probabilities as they are (``"prob"``)."""
    scores = np.asarray(scores, dtype=np.float64)
    if multi_label:
        return 1.0 / (1.0 + np.exp(-scores))
    if average == "prob":
        return scores
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _write_results(
    path: Path,
    results: Mapping[str, float],
    predictions: Predictions,
    classes: Sequence[str] | None,
    *,
    checkpoint: str,
    views: Any,
    paths: Sequence[str] | None = None,
    average: str = "score",
    multi_label: bool = False,
    top_k: int = 5,
) -> None:
    probs = probabilities(predictions.scores, average=average, multi_label=multi_label)
    k = min(top_k, probs.shape[1])
    top = np.argsort(-probs, axis=1, kind="stable")[:, :k]

    def name(c: int) -> str | int:
        return classes[c] if classes else int(c)

    samples = []
    for row, index in enumerate(predictions.indices.tolist()):
        label = predictions.labels[row]
        if isinstance(label, np.ndarray) and label.ndim == 1:  # multi-hot
            value: Any = [int(c) for c in np.flatnonzero(label > 0.5)]
            label_name: Any = [name(c) for c in value]
        else:
            value = int(label)
            label_name = name(value) if value >= 0 else None
        samples.append(
            {
                "index": index,
                "path": paths[index] if paths is not None else None,
                "label": value,
                "label_name": label_name,
                "top_k": [[name(c), round(float(probs[row, c]), 6)] for c in top[row].tolist()],
                "probs": [round(float(p), 6) for p in probs[row]],
            }
        )
    document = {
        "checkpoint": checkpoint,
        "views": None if views is None else "x".join(map(str, parse_views(views))),
        "metrics": dict(results),
        "classes": list(classes) if classes else None,
        "probabilities": "sigmoid"
        if multi_label
        else ("mean of softmax" if average == "prob" else "softmax"),
        "samples": samples,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name of its own: two tests writing the same --out at once each replace it whole.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(document, indent=1, default=_json_default))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def load_model(
    cfg: ExperimentConfig, checkpoint: str | os.PathLike[str], *, device: torch.device | str | None = None
) -> tuple[nn.Module, dict[str, Any]]:
    """Build ``cfg``'s model (:func:`model_for_checkpoint`: no initial weights, the model type checked),
    load ``checkpoint`` into it (weights only), move it to ``device``, eval mode.

    Returns the model and the checkpoint's ``meta`` (``classes``, ``multi_label`` when it was trained here).
    """
    model, state = model_for_checkpoint(cfg, checkpoint)
    model.to(pick_device(device)).eval()
    return model, dict(state.get("meta") or {})


def predict_video(
    cfg: ExperimentConfig,
    checkpoint: str | os.PathLike[str],
    video: str | os.PathLike[str],
    *,
    top_k: int = 5,
    classes: Sequence[str] | None = None,
    views: str | tuple[int, int] | None = None,
    device: torch.device | str | None = None,
    model: nn.Module | None = None,
) -> list[tuple[str, float]]:
    """Top-k ``(label, probability)`` for one video file through ``cfg``'s test pipeline.

    ``classes`` (a label map) defaults to the class names stored in the checkpoint, else class indices.
    ``views`` (``"clips x crops"``) overrides the test pipeline's sampling. Scores are softmax
    probabilities (sigmoid for a multi-label checkpoint) averaged over the views.
    """
    from action_core.data import VideoDataset, VideoRecord

    device = pick_device(device)
    if model is None:
        model, meta = load_model(cfg, checkpoint, device=device)
    else:
        meta = dict(load_weights(model, checkpoint).get("meta") or {})
        model.to(device)
    if model_task(model) == "localization":
        raise ConfigError(
            f"{type(model).__name__} is a localizer; it predicts from features, not from a video file: "
            "`action-run localize --checkpoint ...` gives its proposals"
        )
    pipeline = cfg.data.test.pipeline if views is None else views_pipeline(cfg, views)
    dataset = VideoDataset([VideoRecord(str(video))], pipeline, test_mode=True)
    item = dataset[0]
    # One clip: batch norm folding and compilation cost more than they save; precision and layout are
    # chosen for the device as for training and testing.
    from action_core.engine.fastpath import conv_dims, convert_memory_format
    from action_core.hardware import choose_speed

    speed = choose_speed(
        device,
        amp=cfg.train.amp,
        channels_last=cfg.train.channels_last,
        compile=False,
        task="infer",
        conv_dims=conv_dims(model),
    )
    if speed.channels_last.value:
        convert_memory_format(model)
    return predict(
        model,
        item["inputs"],
        norm=item.get("norm"),
        top_k=top_k,
        classes=classes if classes is not None else meta.get("classes"),
        average="prob",
        multi_label=bool(meta.get("multi_label", False)),
        device=device,
        amp=str(speed.amp.value),
        channels_last=bool(speed.channels_last.value),
    )
