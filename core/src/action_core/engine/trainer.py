"""The training loop: plain PyTorch, resumable, distributed under ``torchrun``, mixed precision.

>>> trainer = Trainer(cfg, work_dir="runs/tsm")          # doctest: +SKIP
>>> final = trainer.fit(resume="auto")                    # doctest: +SKIP

Files in the work dir (written by global rank 0 only): ``config.toml`` (the resolved config),
``last.pth`` (every epoch, and every ``train.ckpt_interval_iters`` iterations), ``epoch_N.pth`` (every
``train.ckpt_interval`` epochs; the newest ``train.keep_ckpts`` are kept), ``best.pth`` (best ``train.best_metric`` on validation), ``log.jsonl``
(every logged scalar), ``tensorboard/`` (when installed), ``curves.png`` and, for recognizers,
``confusion_matrix.png``. See :mod:`action_core.engine.distributed` for single- and multi-node ``torchrun``
commands.

The loop is the same for every task: it calls the model's ``training_step`` and evaluates through its
``predict_step`` (:mod:`action_core.models.steps`), so recognizers and localizers share checkpoints, resume,
DDP, mixed precision, run-time hooks and logs. Checkpoints are self-contained (config without
initial-weights loading, class names, input spec, model type: :mod:`action_core.engine.checkpoint`), and a
fresh run fine-tunes from ``train.load_from`` / freezes ``train.freeze`` (:mod:`action_core.engine.finetune`).
"""

from __future__ import annotations

import math
import os
import random
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sized
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from action_core.engine.builders import (
    build_dataset_from_config,
    build_metrics,
    build_model_from_config,
    build_optimizer,
    build_scheduler,
    make_loader,
)
from action_core.engine.callbacks import CallbackList, default_loggers
from action_core.engine.checkpoint import (
    FORMAT,
    CheckpointError,
    atomic_copy,
    capture_rng_state,
    find_resume_checkpoint,
    load_checkpoint,
    model_state_from_checkpoint,
    prune_epoch_checkpoints,
    restore_rng_state,
    run_meta,
    save_checkpoint,
)
from action_core.engine.distributed import (
    EvalShardSampler,
    ResumableTrainSampler,
    all_reduce_max,
    barrier,
    init_distributed,
)
from action_core.engine.finetune import Frozen, freeze, load_initial_weights
from action_core.engine.inference import (
    Predictions,
    VideoPredictions,
    autocast,
    evaluate_model,
    pick_device,
)
from action_core.engine.schema import ExperimentConfig
from action_core.engine.step_module import StepModule, prepare_batch
from action_core.engine.workdir import WorkDirClaim, claim_work_dir
from action_core.errors import ActionError, ConfigError
from action_core.hardware import choose_speed
from action_core.models.steps import model_task

__all__ = ["NonFiniteLossError", "Trainer"]


class NonFiniteLossError(ActionError, RuntimeError):
    """The training loss became NaN or infinite; the run stopped before applying the bad update."""


def seed_everything(seed: int) -> None:
    """Seed python's ``random``, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _convert_memory_format(model: nn.Module) -> None:
    # channels_last for 4-D weights (2D convs), channels_last_3d for 5-D ones (3D convs).
    for param in model.parameters():
        if param.ndim == 4:
            param.data = param.data.contiguous(memory_format=torch.channels_last)
        elif param.ndim == 5:
            param.data = param.data.contiguous(memory_format=torch.channels_last_3d)


class Trainer:
    """Trains ``cfg``'s model on its train split, validating and checkpointing as configured.

    ``model`` and ``datasets`` (``{"train": ..., "val": ...}``) default to the registered builders named
    in ``cfg``; ``model`` may also be a zero-argument factory, called after seeding so the initial
    weights follow ``train.seed``. ``callbacks`` observe the run (see :mod:`action_core.engine.callbacks`);
    the JSON-lines log and TensorBoard writer are added automatically. Attributes useful to callbacks:
    ``cfg``, ``work_dir``, ``model`` (unwrapped), ``task``, ``epoch`` (epochs completed), ``iteration``
    (optimiser steps), ``rank``, ``world_size``, ``history``, ``best``, ``last_metrics``.

    A dataset whose items do not stack into a batch (localization samples: segment counts differ) gives its
    batching function as a ``collate`` attribute; the training and validation loaders use it.
    """

    def __init__(
        self,
        cfg: ExperimentConfig,
        *,
        work_dir: str | os.PathLike[str],
        model: nn.Module | Callable[[], nn.Module] | None = None,
        datasets: Mapping[str, Dataset] | None = None,
        device: str | torch.device | None = None,
        callbacks: Iterable[Any] = (),
        progress: bool = True,
    ) -> None:
        self.cfg = cfg
        self.work_dir = Path(work_dir)
        self.device = pick_device(device)
        info = init_distributed(self.device)
        if info.is_distributed and self.device.type == "cuda":
            self.device = torch.device("cuda", info.local_rank)
        self.rank, self.world_size, self.is_main = info.rank, info.world_size, info.is_main
        self.progress = progress
        train_cfg = cfg.train
        if train_cfg.tune_memory:
            from action_core.data import keep_freed_memory

            # A 3D model's step frees and reallocates hundreds of MB of activations; with glibc's defaults
            # every one comes back from the kernel page by page (I3D-R50 on CPU: 15-20 % of the step).
            keep_freed_memory()

        seed_everything(train_cfg.seed)  # same initial weights on every rank, reproducible per seed
        if model is None:
            # Weights to fine-tune from replace whatever the model would start from: download nothing.
            self.model = build_model_from_config(cfg, initial_weights=train_cfg.load_from is None)
        elif isinstance(model, nn.Module):
            self.model = model
        else:
            self.model = model()
        self.task = model_task(self.model)
        datasets = dict(datasets) if datasets is not None else self._build_datasets()
        if "train" not in datasets:
            raise ConfigError("Trainer needs a 'train' dataset")
        self.datasets = datasets
        self.classes: list[str] | None = getattr(datasets["train"], "classes", None)
        self.multi_label = bool(getattr(datasets["train"], "multi_label", False))

        if train_cfg.sync_bn and info.is_distributed:
            if self.device.type == "cuda":
                self.model = nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
            else:
                warnings.warn(
                    "train.sync_bn = true is ignored: PyTorch's SyncBatchNorm runs on CUDA devices only, and "
                    f"this run uses {self.device}; batch norm statistics stay per process",
                    RuntimeWarning,
                    stacklevel=2,
                )
        self.model.to(self.device)
        # amp / channels_last / compile: "auto" resolves to what is fast on this device (one log line says
        # what and why); the config keeps "auto", so a resumed run on another machine decides anew.
        from action_core.engine.fastpath import conv_dims

        self.speed = choose_speed(
            self.device,
            amp=train_cfg.amp,
            channels_last=train_cfg.channels_last,
            compile=train_cfg.compile,
            log=self.is_main,
            conv_dims=conv_dims(self.model),
        )
        self.amp = str(self.speed.amp.value)
        self.channels_last = bool(self.speed.channels_last.value)
        if self.channels_last:
            _convert_memory_format(self.model)
        self.frozen: Frozen | None = freeze(self.model, train_cfg.freeze) if train_cfg.freeze else None
        self.optimizer = build_optimizer(self.model, cfg.optim)

        batch_size = cfg.data.batch_size
        self.sampler = ResumableTrainSampler(
            len(cast(Sized, datasets["train"])),
            seed=train_cfg.seed,
            rank=self.rank,
            world_size=self.world_size,
        )
        self.train_loader = make_loader(
            datasets["train"],
            self.sampler,
            batch_size=batch_size,
            workers=cfg.data.workers,
            seed=train_cfg.seed,
        )
        self.iters_per_epoch = math.ceil(self.sampler.per_rank / batch_size)
        self.scheduler = build_scheduler(
            self.optimizer, cfg.schedule, base_lr=cfg.optim.lr, iters_per_epoch=self.iters_per_epoch
        )
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp == "fp16")
        self.val_loader = None
        if "val" in datasets and train_cfg.val_interval > 0:
            val = datasets["val"]
            self.val_loader = make_loader(
                val,
                EvalShardSampler(len(cast(Sized, val)), rank=self.rank, world_size=self.world_size),
                batch_size=batch_size,
                workers=cfg.data.workers,
                seed=train_cfg.seed,
            )

        # DDP and torch.compile wrap the whole step, so gradients synchronise whatever the step computes.
        self.train_model: nn.Module = StepModule(self.model)
        if info.is_distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.train_model = nn.parallel.DistributedDataParallel(self.train_model, device_ids=ids)
        self.eval_model: nn.Module = StepModule(self.model)
        if self.speed.compile.value:
            self.train_model = cast(nn.Module, torch.compile(self.train_model))
            self.eval_model = cast(nn.Module, torch.compile(self.eval_model))
        if self.rank > 0:
            seed_everything(train_cfg.seed + self.rank)  # different dropout / augmentation per rank

        self.epoch = 0
        self.iteration = 0
        self.batch_in_epoch = 0
        # (sum, count) of the current epoch's losses over every rank up to batch_in_epoch, kept in mid-epoch
        # checkpoints so that a resumed epoch reports the loss of all its batches
        self.epoch_loss_sum: tuple[float, int] = (0.0, 0)
        self.best: dict[str, Any] = {"metric": train_cfg.best_metric, "value": None, "epoch": None}
        self.history: dict[str, list[list[float]]] = {}
        self.last_val: Predictions | VideoPredictions | None = None
        self.last_metrics: dict[str, float] = {}
        self.callbacks = CallbackList(list(callbacks))
        self._loggers_added = False
        self.init_report: Any = None  # what train.load_from loaded (a ConversionReport), on a fresh run

    # ------------------------------------------------------------------ setup helpers

    def _build_datasets(self) -> dict[str, Dataset]:
        datasets = {"train": build_dataset_from_config(self.cfg, "train")}
        if self.cfg.train.val_interval > 0:  # train.val_interval = 0 turns validation (and its split) off
            datasets["val"] = build_dataset_from_config(self.cfg, "val")
        return datasets

    def _record(self, name: str, x: float, y: float) -> None:
        self.history.setdefault(name, []).append([float(x), float(y)])

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the run exactly: tensors and plain values only."""
        return {
            "format": FORMAT,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
            "epoch": self.epoch,
            "iteration": self.iteration,
            "batch_in_epoch": self.batch_in_epoch,
            "epoch_loss_sum": list(self.epoch_loss_sum),
            "rng": capture_rng_state(),
            "best": dict(self.best),
            "history": {k: [list(p) for p in v] for k, v in self.history.items()},
            "last_metrics": dict(self.last_metrics),
            "meta": run_meta(
                self.cfg, classes=self.classes, multi_label=self.multi_label, world_size=self.world_size
            ),
        }

    def load_state_dict(self, state: Mapping[str, Any], *, source: str = "checkpoint") -> None:
        """Restore a state from :meth:`state_dict` (model, optimiser, schedule, scaler, RNG, position)."""
        if state.get("format") != FORMAT:
            raise CheckpointError(
                f"{source} is not an action training checkpoint (format {state.get('format')!r}); to start "
                "from its weights only, load them into the model before creating the Trainer"
            )
        meta = state.get("meta", {})
        if meta.get("world_size", self.world_size) != self.world_size and state.get("batch_in_epoch", 0):
            raise CheckpointError(
                f"{source} was written mid-epoch by {meta['world_size']} processes; resume it with the same "
                f"number of processes (now {self.world_size}) or from an epoch checkpoint"
            )
        try:
            self.model.load_state_dict(model_state_from_checkpoint(state, source=source))
        except RuntimeError as e:
            raise CheckpointError(f"{source} does not fit the model: {e}") from e
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler") is not None and self.scaler.is_enabled():
            self.scaler.load_state_dict(state["scaler"])
        self.epoch = int(state["epoch"])
        self.iteration = int(state["iteration"])
        self.batch_in_epoch = int(state.get("batch_in_epoch", 0))
        loss_sum, loss_count = state.get("epoch_loss_sum", (0.0, 0))
        self.epoch_loss_sum = (float(loss_sum), int(loss_count)) if self.batch_in_epoch else (0.0, 0)
        self.best = dict(state.get("best", self.best))
        self.history = {k: [list(p) for p in v] for k, v in state.get("history", {}).items()}
        self.last_metrics = dict(state.get("last_metrics", {}))
        restore_rng_state(state["rng"])  # rank 0's streams; other ranks derive distinct ones
        if self.rank > 0:
            seed_everything(self.cfg.train.seed + self.rank + 1_000 * self.iteration)

    def resume(self, resume: str | os.PathLike[str]) -> Path | None:
        """Resume from ``"auto"`` (the newest complete checkpoint in the work dir, if any) or a path."""
        if str(resume) == "auto":
            path = find_resume_checkpoint(self.work_dir)
            if path is None:
                return None
        else:
            path = Path(resume)
        self.load_state_dict(load_checkpoint(path), source=f"checkpoint {str(path)!r}")
        return path

    def _save(self, *, epoch_end: bool, improved: bool) -> None:
        if not self.is_main:
            return
        last = save_checkpoint(self.state_dict(), self.work_dir / "last.pth")
        interval = self.cfg.train.ckpt_interval
        if epoch_end and interval and self.epoch % interval == 0:
            atomic_copy(last, self.work_dir / f"epoch_{self.epoch}.pth")
            prune_epoch_checkpoints(self.work_dir, self.cfg.train.keep_ckpts)
        if improved:
            atomic_copy(last, self.work_dir / "best.pth")

    # ------------------------------------------------------------------ training

    def _stop_on_non_finite(self, loss: torch.Tensor, batch: Mapping[str, Any]) -> None:
        bad = 0.0 if bool(torch.isfinite(loss.detach()).all()) else 1.0
        if all_reduce_max(bad, self.device) == 0.0:
            return
        last = self.work_dir / "last.pth"
        kept = (
            f"the last good checkpoint is {str(last)!r}"
            if last.is_file()
            else "no checkpoint was written yet"
        )
        indices = batch.get("index")
        samples = (
            f" (dataset indices {torch.as_tensor(indices).tolist()[:16]})" if indices is not None else ""
        )
        message = (
            f"training stopped: the loss became {float(loss.detach().float()):.4g} at epoch {self.epoch + 1}, "
            f"iteration {self.iteration + 1}{samples}; the update was not applied and {kept}. Lower optim.lr, "
            "set optim.grad_clip, add warmup (schedule.warmup_epochs), use amp='bf16' instead of 'fp16', or "
            "check the inputs of those samples; resume with --resume auto after the fix"
        )
        self.callbacks.action_on_log(self, self.iteration, {"train/non_finite_loss": 1.0})
        raise NonFiniteLossError(message)

    def _train_epoch(self) -> float:
        cfg = self.cfg
        self.sampler.set_epoch(self.epoch)
        if self.batch_in_epoch:
            self.sampler.skip(self.batch_in_epoch * cfg.data.batch_size)
        self.train_loader.generator.manual_seed(cfg.train.seed * 100_003 + self.epoch * 1_009 + self.rank)
        self.train_model.train()
        if self.frozen is not None:
            self.frozen.set_eval()
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        # a resumed epoch starts from the sums its checkpoint holds (counted once, on rank 0)
        total, count = self.epoch_loss_sum if self.rank == 0 else (0.0, 0)
        window_count = 0
        window: dict[str, float] = {}
        tick = time.perf_counter()
        bar = tqdm(
            self.train_loader,
            desc=f"epoch {self.epoch + 1}/{cfg.schedule.epochs}",
            unit="it",
            initial=self.batch_in_epoch,
            total=self.iters_per_epoch,
            disable=not (self.progress and self.is_main),
            dynamic_ncols=True,
        )
        try:
            for batch in bar:
                prepared = prepare_batch(
                    batch, self.device, model=self.model, channels_last=self.channels_last
                )
                with autocast(self.device, self.amp):
                    losses = self.train_model(prepared, "train")
                loss = losses["loss"]
                self._stop_on_non_finite(loss, batch)

                self.optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(loss).backward()
                grad_norm = None
                if cfg.optim.grad_clip is not None:
                    self.scaler.unscale_(self.optimizer)
                    grad_norm = float(nn.utils.clip_grad_norm_(params, cfg.optim.grad_clip))
                self.scaler.step(self.optimizer)
                self.scaler.update()
                self.scheduler.step()
                self.iteration += 1
                self.batch_in_epoch += 1

                value = float(loss.detach())  # synchronises with the device once per step
                total, count, window_count = total + value, count + 1, window_count + 1
                for name, term in losses.items():
                    term = term.detach() if isinstance(term, torch.Tensor) else term
                    window[name] = window.get(name, 0.0) + (value if name == "loss" else float(term))
                if self.iteration % cfg.train.log_interval == 0:
                    elapsed = time.perf_counter() - tick
                    scalars = {f"train/{k}": v / window_count for k, v in window.items()}
                    scalars["train/lr"] = self.optimizer.param_groups[0]["lr"]
                    scalars["train/sec_per_iter"] = elapsed / window_count
                    if grad_norm is not None:
                        scalars["train/grad_norm"] = grad_norm
                    if self.scaler.is_enabled():
                        scalars["train/loss_scale"] = float(self.scaler.get_scale())
                    progress = self.epoch + self.batch_in_epoch / self.iters_per_epoch
                    self._record("train/loss", progress, scalars["train/loss"])
                    if self.is_main:
                        self.callbacks.action_on_log(self, self.iteration, scalars)
                    bar.set_postfix(loss=f"{scalars['train/loss']:.4f}", lr=f"{scalars['train/lr']:.3g}")
                    window, window_count, tick = {}, 0, time.perf_counter()
                every = cfg.train.ckpt_interval_iters
                if every and self.iteration % every == 0 and self.batch_in_epoch < self.iters_per_epoch:
                    self.epoch_loss_sum = _sum_over_ranks(total, count, self.device)
                    self._save(epoch_end=False, improved=False)
        finally:
            bar.close()
        self.epoch_loss_sum = (0.0, 0)
        loss_sum, loss_count = _sum_over_ranks(total, count, self.device)
        return loss_sum / loss_count if loss_count else float("nan")

    def _sync_buffers(self) -> None:
        # DDP broadcasts buffers (BN running stats) from rank 0 only at the start of each forward, so after
        # the last training step every rank holds slightly different statistics. Make them rank 0's (the
        # checkpointed ones) so validation on every shard uses the weights a checkpoint will hold.
        if self.world_size > 1:
            import torch.distributed as dist

            for buffer in self.model.buffers():
                dist.broadcast(buffer.data, src=0)

    def validate(self) -> dict[str, float]:
        """Metrics of the current model on the validation split (every sample once over all ranks)."""
        if self.val_loader is None:
            return {}
        self._sync_buffers()
        names = list(self.cfg.test.metrics)
        if self.multi_label and self.task == "recognition" and "mAP" not in names:
            names.append("mAP")
        metrics, self.last_val = evaluate_model(
            self.eval_model,
            self.val_loader,
            names,
            average=self.cfg.test.average,
            device=self.device,
            amp=self.amp,
            channels_last=self.channels_last,
            progress=self.progress,
            desc="val",
        )
        return {f"val/{k}": v for k, v in metrics.items()}

    def _check_best_metric(self) -> None:
        # Fail before training when the best metric can never appear (only knowable for core metrics).
        if self.val_loader is None:
            return
        names = list(self.cfg.test.metrics) + (["mAP"] if self.multi_label else [])
        keys: dict[str, None] = {}  # ordered as configured
        for name in names:
            key = {"confusion_matrix": "accuracy", "map": "mAP"}.get(name, name)
            if not (re.fullmatch(r"top\d+", name) or key in ("mean_class_accuracy", "mAP", "accuracy")):
                return  # a plugin metric: its keys are known only after compute()
            keys[key] = None
        self._update_best({f"val/{k}": float("nan") for k in keys}, dry_run=True)

    def _update_best(self, val_metrics: Mapping[str, float], *, dry_run: bool = False) -> bool:
        name = self.cfg.train.best_metric
        key = f"val/{name}"
        if key not in val_metrics:
            available = ", ".join(k.removeprefix("val/") for k in val_metrics)
            raise ConfigError(
                f"train.best_metric = {name!r} is not among the validation metrics ({available}); pick one of "
                "them or add it to test.metrics"
            )
        if dry_run:
            return False
        value = val_metrics[key]
        lower_is_better = "loss" in name
        previous = self.best.get("value")
        improved = previous is None or (value < previous if lower_is_better else value > previous)
        if improved:
            self.best = {"metric": name, "value": float(value), "epoch": self.epoch}
        return improved

    def fit(
        self, *, resume: str | os.PathLike[str] | None = None, overwrite: bool = False
    ) -> dict[str, float]:
        """Train for ``schedule.epochs`` epochs, continuing a checkpoint when ``resume`` is ``"auto"`` or a
        path, and return the last epoch's metrics (also when a resumed run was already complete).

        The work dir is locked for the run; one that already holds a run needs ``resume`` or ``overwrite``
        (see :mod:`action_core.engine.workdir`). Raises :class:`~action_core.engine.workdir.WorkDirError`
        when it cannot be used, :class:`NonFiniteLossError` on a NaN/inf loss, before the bad update."""
        self._check_best_metric()
        with claim_work_dir(
            self.work_dir, resume=resume, overwrite=overwrite, is_main=self.is_main, device=self.device
        ) as claim:
            return self._fit(resume, claim)

    def _fit(self, resume: str | os.PathLike[str] | None, claim: WorkDirClaim) -> dict[str, float]:
        cfg = self.cfg
        resumed = self.resume(resume) if resume is not None else None
        if resume is not None:
            claim.resumed(self, resumed)
        if resumed is None and cfg.train.load_from is not None:
            self.init_report = load_initial_weights(self.model, cfg.train.load_from)
        if self.is_main:
            self.work_dir.mkdir(parents=True, exist_ok=True)
            _save_config(cfg, self.work_dir / "config.toml")
            if not self._loggers_added:
                self.callbacks.callbacks[:0] = default_loggers(self.work_dir)
                self._loggers_added = True
            self.callbacks.action_on_train_start(self)
        try:
            while self.epoch < cfg.schedule.epochs:
                epoch_loss = self._train_epoch()
                self.epoch += 1
                self.batch_in_epoch = 0
                metrics = {"train/epoch_loss": epoch_loss, "train/lr": self.optimizer.param_groups[0]["lr"]}
                self._record("train/epoch_loss", self.epoch, epoch_loss)
                improved = False
                interval = cfg.train.val_interval
                if self.val_loader is not None and (
                    self.epoch % interval == 0 or self.epoch == cfg.schedule.epochs
                ):
                    val_metrics = self.validate()
                    metrics.update(val_metrics)
                    for key, value in val_metrics.items():
                        self._record(key, self.epoch, value)
                    improved = self._update_best(val_metrics)
                    if self.best["value"] is not None:
                        metrics[f"best/{self.best['metric']}"] = self.best["value"]
                self.last_metrics = metrics
                self._save(epoch_end=True, improved=improved)
                if self.is_main:
                    self.callbacks.action_on_log(self, self.iteration, metrics)
                    self.callbacks.action_on_epoch_end(self, self.epoch, metrics)
            self._sync_buffers()
            barrier()
            if self.is_main:
                self._write_plots()
                self.callbacks.action_on_train_end(self, self.last_metrics)
        finally:
            if self.is_main:
                self.callbacks.close()
        return dict(self.last_metrics)

    def _write_plots(self) -> None:
        try:
            from action_core.engine.plots import plot_confusion_matrix, plot_curves
        except ImportError:  # pragma: no cover - matplotlib is an optional extra
            return
        try:
            plot_curves(self.history, self.work_dir / "curves.png")
        except ImportError:
            return
        if isinstance(self.last_val, Predictions) and not self.multi_label:
            (matrix_metric,) = build_metrics(["confusion_matrix"])
            matrix_metric.num_classes = self.last_val.scores.shape[1]
            matrix_metric.update(self.last_val.scores, self.last_val.labels)
            plot_confusion_matrix(
                matrix_metric.matrix(), self.classes, self.work_dir / "confusion_matrix.png"
            )


def _sum_over_ranks(total: float, count: int, device: torch.device) -> tuple[float, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        tensor = torch.tensor([total, float(count)], dtype=torch.float64, device=device)
        dist.all_reduce(tensor)
        return float(tensor[0]), int(tensor[1])
    return total, count


def _save_config(cfg: ExperimentConfig, path: Path) -> None:
    import tomli_w

    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(tomli_w.dumps(cfg.to_dict()))
    os.replace(tmp, path)
