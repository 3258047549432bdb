"""The one inference API: a recognizer in, typed results out.

:class:`Inferencer` wraps a recognizer built from

- a training checkpoint alone (the trainer stores its resolved config in it):
  ``Inferencer.from_checkpoint("work_dirs/run/best.pth")``;
- a preset or config file plus a checkpoint: ``Inferencer.from_checkpoint("tsm.pth", config="tsm_r50_...")``;
- a registered published weights name (the preset that reproduces it gives the test pipeline):
  ``Inferencer.from_pretrained("tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb")``;

(:meth:`Inferencer.load` picks among the three by what it is given), and predicts on

- a video file (:meth:`~Inferencer.predict_video`) or many (:meth:`~Inferencer.predict_files`: decoded in
  DataLoader workers, clips of several videos batched into one forward pass, unreadable files reported
  as :class:`Skipped` instead of stopping the run);
- an array of frames (:meth:`~Inferencer.predict_frames`);
- windows of a stream of frames (:meth:`~Inferencer.predict_windows`), which the long-video timeline
  (:mod:`action_core.apps.timeline`) and the live mode (:mod:`action_core.apps.live`) feed.

Every input goes through the model's own test pipeline (its sampling, resizing, cropping, normalisation)
and its prediction step; scores are probabilities (softmax, sigmoid for multi-label checkpoints) averaged
over the views. ``action-run predict``, ``timeline``, ``live`` and the ``action-serve`` web plugin all
predict through this class; none of them decodes or runs the model its own way.

Device, mixed precision and batch size are chosen for the machine (``cuda`` when there is one; bf16 where
the device computes it natively, see :func:`action_core.hardware.choose_amp`) and can be overridden.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import torch
from torch import nn

from action_core.engine.schema import ExperimentConfig
from action_core.errors import ConfigError

__all__ = [
    "ClassScore",
    "FrameWindow",
    "Inferencer",
    "Prediction",
    "Skipped",
    "default_batch_size",
]

logger = logging.getLogger("action_core.engine.inferencer")

_CPU_BATCH = 4  # clips per forward pass on a CPU: larger batches were measured no faster there
_CUDA_BATCH = 16


@attrs.frozen
class ClassScore:
    """One class of a top-k list: its name (the label map's, else the class index as text), index, score."""

    label: str
    index: int
    score: float


def _array_field() -> Any:
    return attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class Prediction:
    """What the model says about one input: a video file, an array of frames, or a window of a stream.

    ``top_k``: best first, scores are probabilities. ``probs``: every class's probability (K,), float32.
    ``features``: the embedding the classifier saw (the input of its last linear layer, averaged over
    segments and views), when asked for. ``start`` / ``end``: where the frames lie in the source, in
    seconds (windows of a timeline or a stream; ``None`` for a whole file). ``latency``: seconds from the
    newest frame's arrival to this result (live streams only).
    """

    source: str
    top_k: tuple[ClassScore, ...]
    probs: np.ndarray = _array_field()
    features: np.ndarray | None = _array_field()
    start: float | None = None
    end: float | None = None
    latency: float | None = None

    @property
    def label(self) -> str:
        """The most likely class."""
        return self.top_k[0].label

    @property
    def score(self) -> float:
        """Probability of the most likely class."""
        return self.top_k[0].score

    def pairs(self) -> list[tuple[str, float]]:
        """``[(label, score), ...]``, best first: what ``predict_video`` returns."""
        return [(c.label, c.score) for c in self.top_k]

    def as_dict(self, *, probs: bool = False) -> dict[str, Any]:
        """A JSON-ready dict: ``source``, ``top_k`` as ``[[label, score], ...]``, and ``start`` / ``end`` /
        ``latency`` / ``features`` / ``probs`` where present (``probs`` only when asked for)."""
        out: dict[str, Any] = {"source": self.source, "top_k": [[c.label, c.score] for c in self.top_k]}
        for key in ("start", "end", "latency"):
            value = getattr(self, key)
            if value is not None:
                out[key] = round(float(value), 6)
        if self.features is not None:
            out["features"] = [float(v) for v in self.features]
        if probs and self.probs is not None:
            out["probs"] = [float(v) for v in self.probs]
        return out


@attrs.frozen
class Skipped:
    """An input that could not be predicted: ``source``, the ``reason`` (names the file and the cause), and
    the media error's ``cause`` (``missing``, ``empty``, ``undecodable``, ...) when there is one."""

    source: str
    reason: str
    cause: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``source``, ``error`` (the reason) and ``cause``."""
        return {"source": self.source, "error": self.reason, "cause": self.cause}


@attrs.frozen
class FrameWindow:
    """Consecutive frames of a stream, in display order, for one prediction.

    ``frames``: RGB uint8 (H, W, 3) arrays, or any objects ``to_rgb`` turns into them (decoded PyAV frames:
    only the frames the model's sampler picks are converted). ``start`` / ``end``: seconds of the first
    frame and just after the last one in the source. ``arrival``: ``time.monotonic()`` at which the newest
    frame arrived (live streams; gives the result's latency).
    """

    frames: Sequence[Any]
    fps: float
    start: float
    end: float
    source: str = "frames"
    to_rgb: Callable[[Any], np.ndarray] | None = None
    arrival: float | None = None


def default_batch_size(device: torch.device) -> int:
    """Clips per forward pass on ``device``: 16 on a GPU, 4 on a CPU (where larger batches are no faster)."""
    return _CUDA_BATCH if device.type == "cuda" else _CPU_BATCH


class _FramesReader:
    """The reader protocol ``DecodeFrames`` uses, over frames already in memory: the model's sampler picks
    indices into them and only those frames are converted (and scaled to ``short_side`` like the video
    reader does)."""

    def __init__(
        self,
        frames: Sequence[Any],
        *,
        fps: float,
        to_rgb: Callable[[Any], np.ndarray] | None,
        short_side: int | None,
        path: str,
    ) -> None:
        if len(frames) == 0:
            from action_core.video import MediaError

            raise MediaError(f"{path}: no frames to predict on", path=path, cause="empty")
        self.frames = frames
        self.fps = float(fps)
        self.to_rgb = to_rgb
        self.short_side = short_side
        self.path = path
        first = self._rgb(0)
        self.height, self.width = int(first.shape[0]), int(first.shape[1])
        self.num_frames = len(frames)

    def _rgb(self, i: int) -> np.ndarray:
        frame = self.frames[i]
        array = self.to_rgb(frame) if self.to_rgb is not None else frame
        array = np.asarray(array)
        if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(
                f"{self.path}: frames must be RGB uint8 arrays (H, W, 3), got {array.dtype} {array.shape}"
            )
        return array

    def get_frames(self, indices: Any, layout: str = "TCHW") -> torch.Tensor:
        inds = np.asarray(indices, dtype=np.int64).reshape(-1)
        if inds.size and (inds.min() < 0 or inds.max() >= self.num_frames):
            raise IndexError(
                f"{self.path}: frame index out of range 0..{self.num_frames - 1}: {inds.tolist()}"
            )
        out = torch.from_numpy(np.stack([self._rgb(int(i)) for i in inds]))  # (T, H, W, C)
        if self.short_side and min(self.height, self.width) > self.short_side:
            h, w = self.height, self.width
            scale = self.short_side / min(h, w)
            size = (max(1, round(h * scale)), max(1, round(w * scale)))
            out = torch.nn.functional.interpolate(out.permute(0, 3, 1, 2).float(), size=size, mode="area")
            out = out.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
        return out.permute(0, 3, 1, 2) if layout == "TCHW" else out

    def close(self) -> None:
        """Nothing to release; ``DecodeFrames`` calls it."""


def _classifier(model: nn.Module) -> nn.Linear | None:
    """The linear layer that turns the embedding into class scores: ``head.fc_cls`` (MMAction2's heads),
    else the last linear layer of the head, else of the model."""
    head = getattr(model, "head", None)
    fc = getattr(head, "fc_cls", None)
    if isinstance(fc, nn.Linear):
        return fc
    for scope in (head, model):
        if isinstance(scope, nn.Module):
            linears = [m for m in scope.modules() if isinstance(m, nn.Linear)]
            if linears:
                return linears[-1]
    return None


class Inferencer:
    """A recognizer ready to predict: the model in eval mode on its device, its test pipeline and classes.

    Build one with :meth:`load`, :meth:`from_checkpoint` or :meth:`from_pretrained`; the constructor wraps
    a model already built and loaded. Options (all keyword, all with machine-chosen defaults):

    - ``classes``: class names (a label map); default the names stored in the checkpoint, else indices;
    - ``device``: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default the GPU when there is one;
    - ``amp``: ``"auto"`` (bf16 where the device computes it natively, else fp32), ``"none"``, ``"bf16"``,
      ``"fp16"``;
    - ``batch_size``: clips per forward pass (:func:`default_batch_size`);
    - ``channels_last``: ``"auto"`` (:func:`action_core.hardware.choose_channels_last` for inference),
      ``True`` or ``False`` to force the memory format either way;
    - ``top_k``: how many classes each result lists (5);
    - ``views``: ``"CLIPSxCROPS"`` replaces the test pipeline's views (multi-view testing);
    - ``multi_label``: sigmoid scores instead of softmax (default what the checkpoint says);
    - ``fold_bn``: fold batch norms into their convolutions at the first batch of several clips (checked
      against the unfolded model on its first clip; :mod:`action_core.models.fuse`); one clip alone is
      predicted unfolded, as folding costs more than it saves there.
    """

    def __init__(
        self,
        model: nn.Module,
        cfg: ExperimentConfig,
        *,
        classes: Sequence[str] | None = None,
        multi_label: bool = False,
        device: str | torch.device | None = None,
        amp: str = "auto",
        batch_size: int | None = None,
        top_k: int = 5,
        views: str | None = None,
        channels_last: bool | str = "auto",
        source: str = "",
        fold_bn: bool = True,
    ) -> None:
        from action_core.data.pipeline import build_pipeline
        from action_core.engine.inference import pick_device, views_pipeline
        from action_core.hardware import choose_amp, choose_channels_last
        from action_core.models.steps import model_task

        if model_task(model) == "localization":
            raise ConfigError(
                f"{type(model).__name__} is a localizer; the Inferencer predicts a recognizer's labels. "
                "`action-run localize --checkpoint ...` gives a localizer's proposals"
            )
        if top_k < 1:
            raise ConfigError(f"top_k must be >= 1, got {top_k}")
        self.device = pick_device(device)
        if amp not in ("auto", "none", "bf16", "fp16"):
            raise ConfigError(f"amp = {amp!r} is not allowed; choose one of auto, none, bf16, fp16")
        self.amp = str(choose_amp(self.device, amp).value)
        if channels_last not in ("auto", True, False):
            raise ConfigError(f"channels_last = {channels_last!r} is not allowed; choose auto, True or False")
        self.channels_last = bool(
            choose_channels_last(
                self.device,
                self.amp,
                channels_last,
                task="infer",
                conv_dims=3 if getattr(model, "input_format", "") == "NCTHW" else 2,
            ).value
        )
        if batch_size is not None and batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size or default_batch_size(self.device)
        self.top_k = int(top_k)
        self.cfg = cfg
        self.views = views
        self.source = source
        steps = cfg.data.test.pipeline
        if not steps:
            raise ConfigError(
                f"the config of {source or 'this model'} has no data.test.pipeline; the Inferencer needs the "
                "test pipeline to sample, resize and normalise frames"
            )
        # views_pipeline keeps a 2D model's trained segment count in every clip (TSM's shift needs it)
        self.pipeline_steps = views_pipeline(cfg, views) if views is not None else [dict(s) for s in steps]
        self.pipeline = build_pipeline(self.pipeline_steps)
        self.short_side = self.pipeline.media_options.get("short_side")
        self.model = model.to(self.device).eval()
        self._fold_pending = bool(fold_bn)
        if self.channels_last:
            from action_core.engine.fastpath import convert_memory_format

            convert_memory_format(self.model)
        if cfg.train.tune_memory:
            from action_core.data import keep_freed_memory

            # as the trainer does: each batch of clips frees and reallocates hundreds of MB of activations
            keep_freed_memory()
        num_classes = self._num_classes(model, cfg)
        if classes is not None and len(classes) != num_classes:
            raise ConfigError(
                f"{len(classes)} class names given but the model predicts {num_classes} classes; give a label "
                "map with one name per class"
            )
        self.classes = list(classes) if classes is not None else [str(i) for i in range(num_classes)]
        self.multi_label = bool(multi_label)

    # -- building ------------------------------------------------------------------------------------

    @staticmethod
    def _num_classes(model: nn.Module, cfg: ExperimentConfig) -> int:
        value = getattr(model, "num_classes", None)
        return int(value) if isinstance(value, int) else int(cfg.model.num_classes)

    @classmethod
    def load(
        cls,
        source: str | os.PathLike[str],
        *,
        config: str | os.PathLike[str] | None = None,
        overrides: Iterable[str] = (),
        **options: Any,
    ) -> Inferencer:
        """An inferencer from a checkpoint file (with ``config``, or the config stored in it) or, when
        ``source`` is not a file, a registered published weights name."""
        if os.path.exists(os.fspath(source)) or config is not None:
            return cls.from_checkpoint(source, config=config, overrides=overrides, **options)
        return cls.from_pretrained(str(source), overrides=overrides, **options)

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: str | os.PathLike[str],
        *,
        config: str | os.PathLike[str] | None = None,
        overrides: Iterable[str] = (),
        **options: Any,
    ) -> Inferencer:
        """Build the model of ``config`` (a preset or config file; default the config the trainer stored in
        the checkpoint), load the checkpoint's weights; ``options`` as for the constructor."""
        from action_core.engine.commands import experiment_of_checkpoint
        from action_core.engine.inference import load_model, pick_device

        cfg = experiment_of_checkpoint(checkpoint, config, overrides)
        device = pick_device(options.pop("device", None))
        model, meta = load_model(cfg, checkpoint, device=device)
        options.setdefault("multi_label", bool(meta.get("multi_label", False)))
        if options.get("classes") is None:
            options["classes"] = meta.get("classes")
        return cls(model, cfg, device=device, source=str(checkpoint), **options)

    @classmethod
    def from_pretrained(cls, name: str, *, overrides: Iterable[str] = (), **options: Any) -> Inferencer:
        """Build the model of the registered preset that reproduces the published checkpoint ``name`` and
        load those weights (downloaded once into torch's hub cache; converted by the model's converter)."""
        from action_core.engine.builders import build_model_from_config
        from action_core.engine.commands import load_experiment
        from action_core.models.loading import find_published_weights, load_weights

        published = find_published_weights(name)
        if published is None:
            raise ConfigError(
                f"{name!r} is neither a checkpoint file nor a published checkpoint of an installed model "
                "plugin; give a checkpoint path, or a name from `action-run info MODEL`"
            )
        info, model_name = published
        preset = _preset_reproducing(name)
        if preset is None:
            raise ConfigError(
                f"no installed preset reproduces the published checkpoint {name!r} (of model {model_name!r}), "
                "so its test pipeline is unknown; pass a config: Inferencer.from_checkpoint(FILE, config=...) "
                "or `--config PRESET_OR_FILE`"
            )
        cfg = load_experiment(preset, overrides)
        model = build_model_from_config(cfg)
        load_weights(model, info)
        if options.get("classes") is None:
            categories = info.meta.get("classes")
            options["classes"] = list(categories) if isinstance(categories, Sequence) else None
        return cls(model, cfg, source=name, **options)

    def with_views(self, views: str | None) -> Inferencer:
        """The same model (shared, not copied) with the test pipeline's views replaced (``None``: the test
        pipeline as configured)."""
        import copy

        from action_core.data.pipeline import build_pipeline
        from action_core.engine.inference import views_pipeline

        other = copy.copy(self)
        steps = self.cfg.data.test.pipeline
        other.views = views
        other.pipeline_steps = (
            views_pipeline(self.cfg, views) if views is not None else [dict(s) for s in steps]
        )
        other.pipeline = build_pipeline(other.pipeline_steps)
        other.short_side = other.pipeline.media_options.get("short_side")
        return other

    # -- predicting ----------------------------------------------------------------------------------

    def predict(self, inputs: Any, *, top_k: int | None = None, features: bool = False) -> Any:
        """Predict on what ``inputs`` is: a video path (one :class:`Prediction`), a list of paths (a list of
        :class:`Prediction`; an unreadable file raises), a frame array (T, H, W, 3) uint8 RGB (one
        :class:`Prediction`), or an iterable of :class:`FrameWindow` (an iterator of predictions)."""
        if isinstance(inputs, (str, os.PathLike)):
            return self.predict_video(inputs, top_k=top_k, features=features)
        if isinstance(inputs, (np.ndarray, torch.Tensor)):
            return self.predict_frames(inputs, top_k=top_k, features=features)
        if isinstance(inputs, (list, tuple)) and all(isinstance(i, (str, os.PathLike)) for i in inputs):
            results = []
            for result in self.predict_files(inputs, top_k=top_k, features=features):
                if isinstance(result, Skipped):
                    from action_core.video import MediaError

                    raise MediaError(result.reason, path=result.source, cause=result.cause)
                results.append(result)
            return results
        if isinstance(inputs, Iterable):
            return self.predict_windows(inputs, top_k=top_k, features=features)
        raise TypeError(
            f"cannot predict on a {type(inputs).__name__}; give a video path, a list of paths, a frame array "
            "(T, H, W, 3) uint8 or an iterable of FrameWindow"
        )

    def predict_video(
        self, path: str | os.PathLike[str], *, top_k: int | None = None, features: bool = False
    ) -> Prediction:
        """Top-k of one video file through the test pipeline (raises ``MediaError`` naming the file when it
        cannot be read)."""
        from action_core.data import VideoDataset, VideoRecord

        item = VideoDataset([VideoRecord(os.fspath(path))], self.pipeline, test_mode=True)[0]
        return self._predict_items([item], [os.fspath(path)], top_k=top_k, features=features)[0]

    def predict_frames(
        self,
        frames: np.ndarray | torch.Tensor | Sequence[np.ndarray],
        *,
        fps: float = 30.0,
        top_k: int | None = None,
        features: bool = False,
        source: str = "frames",
    ) -> Prediction:
        """Top-k of a clip given as frames: (T, H, W, 3) uint8 RGB, sampled by the model's own sampler."""
        if isinstance(frames, torch.Tensor):
            frames = frames.cpu().numpy()
        if isinstance(frames, np.ndarray) and (frames.ndim != 4 or frames.shape[-1] != 3):
            raise ValueError(f"frames must be (T, H, W, 3) RGB, got shape {frames.shape}")
        window = FrameWindow(list(frames), fps=fps, start=0.0, end=len(frames) / fps, source=source)
        result = next(iter(self.predict_windows([window], top_k=top_k, features=features)))
        return attrs.evolve(result, start=None, end=None)

    def predict_windows(
        self,
        windows: Iterable[FrameWindow],
        *,
        top_k: int | None = None,
        features: bool = False,
        batch_size: int | None = None,
    ) -> Iterator[Prediction]:
        """One :class:`Prediction` per window (in order, with its ``start`` / ``end``), ``batch_size``
        windows per forward pass; a window's latency is measured from its ``arrival``."""
        import time

        size = batch_size or self.batch_size
        pending: list[tuple[FrameWindow, dict[str, Any]]] = []

        def flush() -> Iterator[Prediction]:
            items = [item for _, item in pending]
            results = self._predict_items(
                items, [w.source for w, _ in pending], top_k=top_k, features=features
            )
            done = time.monotonic()
            for (window, _), result in zip(pending, results, strict=True):
                latency = None if window.arrival is None else done - window.arrival
                yield attrs.evolve(result, start=window.start, end=window.end, latency=latency)
            pending.clear()

        for window in windows:
            pending.append((window, self.window_item(window)))
            if len(pending) >= size:
                yield from flush()
        if pending:
            yield from flush()

    def window_item(self, window: FrameWindow) -> dict[str, Any]:
        """A window through the test pipeline: ``{"inputs": (V, ...), "norm"?}`` as a dataset item."""
        reader = _FramesReader(
            window.frames,
            fps=window.fps,
            to_rgb=window.to_rgb,
            short_side=self.short_side,
            path=window.source,
        )
        results: dict[str, Any] = {
            "reader": reader,
            "total_frames": reader.num_frames,
            "avg_fps": reader.fps,
            "start_index": 0,
            "modality": "RGB",
            "test_mode": True,
            "original_shape": (reader.height, reader.width),
            "img_shape": (reader.height, reader.width),
        }
        out = self.pipeline(results)
        if out is None:
            raise RuntimeError(f"the test pipeline dropped the window of {window.source}")
        item = {"inputs": out["imgs"]}
        if "norm" in out:
            item["norm"] = out["norm"]
        return item

    def predict_files(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        ids: Sequence[str] | None = None,
        workers: int | None = None,
        batch_size: int | None = None,
        top_k: int | None = None,
        features: bool = False,
        progress: bool = False,
    ) -> Iterator[Prediction | Skipped]:
        """Predict on many video files, in order: a :class:`Prediction` per readable file, a
        :class:`Skipped` per unreadable one (the run goes on). Files are decoded in ``workers`` DataLoader
        processes (default: one per spare CPU core, up to 4) and ``batch_size`` files' clips share a forward
        pass. ``ids`` (default the paths) become each result's ``source``."""
        from torch.utils.data import DataLoader
        from tqdm.auto import tqdm

        names = [os.fspath(p) for p in paths] if ids is None else [str(i) for i in ids]
        if len(names) != len(paths):
            raise ValueError(f"{len(names)} ids for {len(paths)} paths")
        dataset = _FileDataset([os.fspath(p) for p in paths], self.pipeline_steps)
        workers = default_workers() if workers is None else int(workers)
        loader = DataLoader(
            dataset,
            batch_size=batch_size or self.batch_size,
            num_workers=workers,
            collate_fn=_collate_files,
            pin_memory=self.device.type == "cuda",
            prefetch_factor=4 if workers else None,
            persistent_workers=False,
        )
        bar = tqdm(total=len(dataset), unit="video", disable=not progress, dynamic_ncols=True)
        skipped = 0
        try:
            for batch in loader:
                results: dict[int, Prediction | Skipped] = {}
                for index, reason, cause in batch["failed"]:
                    results[index] = Skipped(names[index], reason, cause)
                for group in batch["groups"]:
                    item = {"inputs": group["inputs"]}
                    if group["norm"] is not None:
                        item["norm"] = group["norm"]
                    predictions = self._predict_batch(
                        item, [names[i] for i in group["indices"]], top_k=top_k, features=features
                    )
                    results.update(zip(group["indices"], predictions, strict=True))
                for index in sorted(results):
                    result = results[index]
                    skipped += isinstance(result, Skipped)
                    bar.update(1)
                    if skipped:
                        bar.set_postfix(skipped=skipped, refresh=False)
                    yield result
        finally:
            bar.close()

    # -- the model -----------------------------------------------------------------------------------

    def _predict_items(
        self, items: Sequence[Mapping[str, Any]], sources: Sequence[str], *, top_k: int | None, features: bool
    ) -> list[Prediction]:
        """Items of one pipeline (same shapes unless the inputs differ in size) through the model."""
        results: dict[int, Prediction] = {}
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, item in enumerate(items):
            groups.setdefault(tuple(item["inputs"].shape), []).append(i)
        for members in groups.values():
            batch: dict[str, Any] = {"inputs": torch.stack([items[i]["inputs"] for i in members])}
            if "norm" in items[members[0]]:
                batch["norm"] = torch.stack([items[i]["norm"] for i in members])
            for i, result in zip(
                members,
                self._predict_batch(batch, [sources[i] for i in members], top_k=top_k, features=features),
                strict=True,
            ):
                results[i] = result
        return [results[i] for i in range(len(items))]

    @torch.inference_mode()
    def _predict_batch(
        self, batch: Mapping[str, Any], sources: Sequence[str], *, top_k: int | None, features: bool
    ) -> list[Prediction]:
        """A collated batch ``{"inputs": (N, V, ...), "norm"?}`` through the prediction step."""
        from action_core.engine.inference import autocast
        from action_core.engine.step_module import as_step_module, prepare_batch
        from action_core.models.views import average_views

        prepared = prepare_batch(batch, self.device, model=self.model, channels_last=self.channels_last)
        if not self.channels_last and isinstance(prepared.get("inputs"), torch.Tensor):
            # Decoded frames arrive channels-innermost (T, H, W, C in memory); a model in the default layout
            # ran up to 1.7x slower on such strided inputs (TSM-MobileNetV2 on a CPU, batch 1).
            prepared["inputs"] = prepared["inputs"].contiguous()
        if self._fold_pending and len(sources) > 1:
            self._fold_batchnorm(prepared)  # before the feature hook: it replaces the model
        captured: list[torch.Tensor] = []
        hook = None
        if features:
            classifier = _classifier(self.model)
            if classifier is None:
                raise ConfigError(
                    f"{type(self.model).__name__} has no linear classifier to take features from"
                )
            hook = classifier.register_forward_pre_hook(lambda _m, args: captured.append(args[0].detach()))
        try:
            with autocast(self.device, self.amp):
                output = as_step_module(self.model)(prepared, "predict")
        finally:
            if hook is not None:
                hook.remove()
        n = len(sources)
        logits = output.float()
        if logits.ndim == 2:
            logits = logits.unsqueeze(1)
        if self.multi_label:
            probs = logits.sigmoid().mean(dim=1)
        else:
            probs = average_views(logits, "prob")
        probs_np = probs.cpu().numpy().astype(np.float32)
        feats = None
        if captured:
            embedding = captured[-1].float()
            feats = embedding.reshape(n, -1, embedding.shape[-1]).mean(dim=1).cpu().numpy()
        k = min(top_k or self.top_k, probs_np.shape[1])
        order = np.argsort(-probs_np, axis=1, kind="stable")[:, :k]
        out = []
        for row, source in enumerate(sources):
            top = tuple(
                ClassScore(self.classes[c], int(c), float(probs_np[row, c])) for c in order[row].tolist()
            )
            out.append(
                Prediction(
                    source=source,
                    top_k=top,
                    probs=probs_np[row],
                    features=None if feats is None else feats[row],
                )
            )
        return out

    def _fold_batchnorm(self, prepared: Mapping[str, Any]) -> None:
        """Replace the model by a copy with its batch norms folded, checked in fp32 on the batch's first clip
        (the unfolded model stays where the outputs differ)."""
        from action_core.models.fuse import FoldError, fold_batchnorm
        from action_core.models.steps import predict_step

        self._fold_pending = False
        n = prepared["inputs"].shape[0]
        with torch.inference_mode(False):  # the folded weights must be ordinary tensors
            example = {
                k: v[:1].clone() if isinstance(v, torch.Tensor) and v.shape[:1] == (n,) else v
                for k, v in prepared.items()
            }
            try:
                self.model, report = fold_batchnorm(self.model, lambda m: predict_step(m, example))
            except FoldError as e:
                logger.warning("%s; predicting with the unfolded model", e)
            else:
                logger.info(report.describe())

    def __repr__(self) -> str:
        return (
            f"Inferencer({type(self.model).__name__} from {self.source or 'a model'}, {len(self.classes)} "
            f"classes, device={self.device}, amp={self.amp}, batch_size={self.batch_size})"
        )


def default_workers() -> int:
    """DataLoader workers for :meth:`Inferencer.predict_files`: one per CPU core beyond the one running the
    model, at least one, at most 4."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, cores - 1))


def _preset_reproducing(weights: str) -> str | None:
    """The registered preset whose ``weights`` field names the published checkpoint ``weights``."""
    from action_core.plugins.host import get_host

    host = get_host()
    host.load_all()
    for entry in host.registry.entries("preset"):
        if getattr(entry.spec, "weights", "") == weights:
            return entry.name
    return None


class _FileDataset(torch.utils.data.Dataset):
    """Video files through the test pipeline; an unreadable file becomes a failure item, not an error."""

    def __init__(self, paths: Sequence[str], steps: Sequence[Mapping[str, Any]]) -> None:
        from action_core.data import VideoDataset, VideoRecord

        self.paths = list(paths)
        self.videos = VideoDataset([VideoRecord(p) for p in self.paths], steps, test_mode=True)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict[str, Any]:
        from action_core.video import MediaError

        try:
            item = self.videos.load(index)
        except MediaError as e:
            return {"index": index, "error": str(e), "cause": e.cause}
        except (ValueError, RuntimeError, IndexError) as e:
            # A pipeline step refusing this file (too few frames for a crop, odd shapes): skip it, named.
            return {"index": index, "error": f"{self.paths[index]!r}: {type(e).__name__}: {e}", "cause": None}
        out = {"index": index, "inputs": item["inputs"]}
        if "norm" in item:
            out["norm"] = item["norm"]
        return out


def _collate_files(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack the readable items per input shape; keep the failures apart."""
    failed = [(it["index"], it["error"], it["cause"]) for it in items if "error" in it]
    groups: dict[tuple[int, ...], list[dict[str, Any]]] = {}
    for it in items:
        if "error" not in it:
            groups.setdefault(tuple(it["inputs"].shape), []).append(it)
    return {
        "failed": failed,
        "groups": [
            {
                "indices": [it["index"] for it in members],
                "inputs": torch.stack([it["inputs"] for it in members]),
                "norm": torch.stack([it["norm"] for it in members]) if "norm" in members[0] else None,
            }
            for members in groups.values()
        ],
    }
