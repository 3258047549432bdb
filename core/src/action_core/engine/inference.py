"""Evaluation, multi-view testing and single-clip prediction.

Every dataset item carries its views as ``inputs`` (V, ...) (V = clips x crops), so a batch is
(N, V, ...). Views are folded into the batch, the model sees (N*V, ...) one view per sample, and the
(N, V, K) logits are averaged per sample with :func:`action_core.models.average_views` (``score`` or
``prob``). Under ``torchrun`` each rank scores an unpadded shard and the (index, scores, label) triples
are gathered and de-duplicated by dataset index, so every sample counts exactly once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from action_core.engine.checkpoint import CheckpointError, load_checkpoint, model_state_from_checkpoint
from action_core.engine.distributed import EvalShardSampler, all_gather_objects, init_distributed
from action_core.engine.schema import ExperimentConfig
from action_core.errors import ConfigError

__all__ = [
    "Predictions",
    "apply_views",
    "autocast",
    "batch_inputs",
    "collect_predictions",
    "compute_metrics",
    "evaluate",
    "fold_views",
    "load_model",
    "load_weights",
    "parse_views",
    "pick_device",
    "to_model_layout",
    "predict",
    "predict_video",
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


def fold_views(inputs: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """(N, V, ...) → (N*V, ...), returning also N and V."""
    if inputs.ndim < 3:
        raise ValueError(
            f"expected a batch of views shaped (N, V, ...), got {tuple(inputs.shape)}; dataset items must "
            "put their views first in 'inputs' (V, ...), V = clips x crops"
        )
    n, v = inputs.shape[:2]
    return inputs.flatten(0, 1), n, v


def to_model_layout(inputs: torch.Tensor, model: nn.Module, channels_last: bool) -> torch.Tensor:
    """With ``channels_last``: 3D-model clips in ``channels_last_3d``, 4-D inputs in ``channels_last``."""
    if channels_last and inputs.ndim == 5 and getattr(model, "input_format", "") == "NCTHW":
        return inputs.contiguous(memory_format=torch.channels_last_3d)
    if channels_last and inputs.ndim == 4:
        return inputs.contiguous(memory_format=torch.channels_last)
    return inputs


@attrs.frozen
class Predictions:
    """Per-sample averaged scores, in dataset-index order, each sample once."""

    indices: np.ndarray  # (N,) int64
    scores: np.ndarray  # (N, K) float32
    labels: np.ndarray  # (N,) int64 or (N, K) multi-hot


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
    """Run ``model`` over ``loader`` and gather the averaged scores of every rank, de-duplicated by index."""
    from action_core.models.views import average_views

    device = pick_device(device)
    was_training = model.training
    model.eval()
    indices: list[torch.Tensor] = []
    scores: list[torch.Tensor] = []
    labels: list[torch.Tensor] = []
    rank, world_size = _rank_and_world()
    bar = tqdm(loader, desc=desc, unit="batch", disable=not (progress and rank == 0), dynamic_ncols=True)
    try:
        with torch.inference_mode():
            for position, batch in enumerate(bar):
                inputs, n, v = fold_views(batch_inputs(batch, device))
                inputs = to_model_layout(inputs, model, channels_last)
                with autocast(device, amp):
                    logits = model(inputs)
                averaged = average_views(logits.float().reshape(n, v, -1), average)
                scores.append(averaged.cpu())
                labels.append(torch.as_tensor(batch["label"]).cpu())
                index = batch.get("index")
                if index is None:
                    if world_size > 1:
                        raise ValueError(
                            "distributed evaluation needs each item's dataset 'index' to count samples once; "
                            "return {'inputs', 'label', 'index'} from the dataset"
                        )
                    start = position * (loader.batch_size or n)
                    index = torch.arange(start, start + n)
                indices.append(torch.as_tensor(index).cpu().long())
    finally:
        bar.close()
        model.train(was_training)
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
    order = np.argsort(all_indices, kind="stable")
    unique_indices, first = np.unique(all_indices[order], return_index=True)
    keep = order[first]
    return Predictions(unique_indices.astype(np.int64), all_scores[keep], all_labels[keep])


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
    """Metrics of ``model`` over ``loader`` (batches of ``{"inputs": (N, V, ...), "label", "index"}``).

    ``metrics`` are names (``top1``, ``top5``, ``mean_class_accuracy``, ``mAP``, a registered metric) or
    metric objects. Distributed: give each rank an unpadded shard (``EvalShardSampler``); the result counts
    every sample once and is the same on every rank. Also returns ``num_samples``.
    """
    predictions = collect_predictions(
        model, loader, average=average, device=device, amp=amp, progress=progress
    )
    results = compute_metrics(metrics, predictions)
    results["num_samples"] = float(len(predictions.indices))
    return results


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
) -> list[tuple[str, float]]:
    """Top-k ``(label, score)`` of one sample: ``clip`` is a dataset item's ``inputs`` (V, ...) or a single
    4-D view. Scores are probabilities (softmax, or sigmoid when ``multi_label``), averaged over views.
    ``norm``: the item's ``norm`` entry when its pipeline deferred normalisation to the device."""
    from action_core.data import normalize_batch
    from action_core.models.views import average_views

    device = pick_device(device)
    if clip.ndim == 4:
        clip = clip.unsqueeze(0)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            clip = clip.to(device)
            logits = model(clip if norm is None else normalize_batch(clip, norm[None])).float()
    finally:
        model.train(was_training)
    if multi_label:
        probs = logits.sigmoid().mean(dim=0)
    else:
        probs = average_views(logits.unsqueeze(0), average)[0]
        if average == "score":
            probs = probs.softmax(dim=0)
    if classes is not None and len(classes) != probs.numel():
        raise ValueError(f"{len(classes)} class names given but the model predicts {probs.numel()} classes")
    values, order = probs.topk(min(top_k, probs.numel()))
    names = list(classes) if classes is not None else [str(i) for i in range(probs.numel())]
    return [(names[i], float(p)) for p, i in zip(values.tolist(), order.tolist(), strict=True)]


def load_weights(
    model: nn.Module, checkpoint: str | os.PathLike[str], *, strict: bool = True
) -> dict[str, Any]:
    """Load a checkpoint's model weights into ``model`` (safely, ``weights_only``); returns the checkpoint."""
    state = load_checkpoint(checkpoint)
    weights = model_state_from_checkpoint(state, source=f"checkpoint {str(checkpoint)!r}")
    try:
        model.load_state_dict(weights, strict=strict)
    except RuntimeError as e:
        raise CheckpointError(
            f"checkpoint {str(checkpoint)!r} does not fit the {type(model).__name__} model: {e}. Check that "
            "the config's model type and num_classes are those it was trained with, or convert it first"
        ) from e
    return state


_VIEWS = re.compile(r"^\s*(\d+)\s*[x×*]\s*(\d+)\s*$")
_CROPS = {1: "CenterCrop", 3: "ThreeCrop", 10: "TenCrop"}


def parse_views(views: str | tuple[int, int]) -> tuple[int, int]:
    """``"10x3"`` (clips x crops) → ``(10, 3)``."""
    if isinstance(views, tuple):
        clips, crops = views
    else:
        match = _VIEWS.match(views)
        if match is None:
            raise ConfigError(f"views = {views!r} is not CLIPSxCROPS (e.g. 10x3 or 1x1)")
        clips, crops = int(match.group(1)), int(match.group(2))
    if clips < 1 or crops not in _CROPS:
        raise ConfigError(f"views = {views!r}: clips must be >= 1 and crops one of 1, 3, 10")
    return clips, crops


def apply_views(pipeline: Sequence[Mapping[str, Any]], views: str | tuple[int, int]) -> list[dict[str, Any]]:
    """A copy of a test pipeline sampling ``clips`` clips and taking ``crops`` crops per clip.

    Sets ``num_clips`` of the sampling step and swaps the crop step for ``CenterCrop`` / ``ThreeCrop`` /
    ``TenCrop`` (keeping its ``crop_size``).
    """
    clips, crops = parse_views(views)
    steps = [dict(step) for step in pipeline]
    sampler = next((s for s in steps if "num_clips" in s), None)
    if sampler is None:
        raise ConfigError("cannot set views: the test pipeline has no sampling step with a 'num_clips' key")
    sampler["num_clips"] = clips
    crop = next((s for s in steps if s.get("type") in _CROPS.values()), None)
    if crop is None:
        if crops != 1:
            raise ConfigError(
                f"cannot take {crops} crops: the test pipeline has no CenterCrop/ThreeCrop/TenCrop step"
            )
    else:
        crop["type"] = _CROPS[crops]
    return steps


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
    """Multi-view test of ``checkpoint`` on ``cfg``'s test split; returns ``cfg.test.metrics``.

    ``views`` (``"clips x crops"``) overrides the test pipeline's sampling; ``out`` (rank 0) writes a JSON
    file with the metrics and each sample's top-5 classes and scores. Runs distributed under ``torchrun``.
    ``model`` / ``dataset`` replace the registered builders (then ``views`` cannot be used).
    """
    if views is not None and dataset is not None:
        raise ValueError("views rewrites the test pipeline of cfg; it cannot apply to a dataset passed in")
    device = pick_device(device)
    info = init_distributed(device)
    if model is None:
        from action_core.engine.builders import build_model_from_config

        model = build_model_from_config(cfg)
    state = load_weights(model, checkpoint)
    model.to(device)
    if dataset is None:
        from action_core.engine.builders import build_dataset_from_config

        if views is not None:
            cfg = attrs.evolve(
                cfg,
                data=attrs.evolve(
                    cfg.data,
                    test=attrs.evolve(cfg.data.test, pipeline=apply_views(cfg.data.test.pipeline, views)),
                ),
            )
        dataset = build_dataset_from_config(cfg, "test")
    loader = DataLoader(
        dataset,
        batch_size=batch_size or cfg.data.batch_size,
        sampler=EvalShardSampler(len(dataset), rank=info.rank, world_size=info.world_size),
        num_workers=cfg.data.workers,
        generator=torch.Generator().manual_seed(cfg.train.seed),
    )
    predictions = collect_predictions(
        model,
        loader,
        average=cfg.test.average,
        device=device,
        amp=cfg.train.amp,
        progress=progress,
        desc="test",
    )
    results = compute_metrics(cfg.test.metrics, predictions)
    results["num_samples"] = float(len(predictions.indices))
    if out is not None and info.is_main:
        classes = getattr(dataset, "classes", None) or state.get("meta", {}).get("classes")
        _write_results(Path(out), results, predictions, classes, checkpoint=str(checkpoint), views=views)
    return results


def _write_results(
    path: Path,
    results: Mapping[str, float],
    predictions: Predictions,
    classes: Sequence[str] | None,
    *,
    checkpoint: str,
    views: Any,
) -> None:
    k = min(5, predictions.scores.shape[1])
    top = np.argsort(-predictions.scores, axis=1, kind="stable")[:, :k]
    samples = []
    for row, index in enumerate(predictions.indices.tolist()):
        label = predictions.labels[row]
        samples.append(
            {
                "index": index,
                "label": label.tolist() if isinstance(label, np.ndarray) else label,
                "top_k": [
                    [classes[c] if classes else int(c), float(predictions.scores[row, c])]
                    for c in top[row].tolist()
                ],
            }
        )
    document = {
        "checkpoint": checkpoint,
        "views": None if views is None else "x".join(map(str, parse_views(views))),
        "metrics": dict(results),
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
    """Build ``cfg``'s model, load ``checkpoint`` into it (weights only), move it to ``device``, eval mode.

    Returns the model and the checkpoint's ``meta`` (``classes``, ``multi_label`` when it was trained here).
    """
    from action_core.engine.builders import build_model_from_config

    model = build_model_from_config(cfg)
    state = load_weights(model, checkpoint)
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
    pipeline = cfg.data.test.pipeline if views is None else apply_views(cfg.data.test.pipeline, views)
    dataset = VideoDataset([VideoRecord(str(video))], pipeline, test_mode=True)
    item = dataset[0]
    return predict(
        model,
        item["inputs"],
        norm=item.get("norm"),
        top_k=top_k,
        classes=classes if classes is not None else meta.get("classes"),
        average="prob",
        multi_label=bool(meta.get("multi_label", False)),
        device=device,
    )
