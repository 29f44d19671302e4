# SPDX-License-Identifier: Apache-2.0
"""The core's training helper for MindSpore models, on MindSpore's own ``Model`` and ``Callback`` API.

A model's train stage builds its network, loss and optimizer and hands them to :func:`train` with its batches
(:class:`ArrayBatches`, or any :class:`Batches`) and an optional ``validate``. The helper owns the rest, the same
for every model: fine-tuning from ``pretrained`` (with ``freeze``), an atomic checkpoint per epoch (weights,
optimizer state and progress) of which ``keep_checkpoint_max`` are kept, the best epoch's weights by the model's
primary metric, ``--resume`` from the newest readable checkpoint (bit-identical to a run never stopped, and
"nothing to do" when every epoch is done), seed-style log lines, a JSON-lines file of every step, data-parallel
workers (each gets its share of the global batch; rank 0 validates and writes), mixed precision, and the
:class:`~zoo_core.results.TrainResult` built from the files, so a resumed run records what an uninterrupted one
records. The config comes from :class:`~zoo_core.settings.TrainingSettings` (and ``FineTuneSettings``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..errors import ZooError
from ..io import atomic_write_text
from ..results import TrainResult
from .checkpoints import epoch_checkpoints, load_weights, resume, trained_checkpoint, weights_digest
from .progress import Progress
from .summary import read_metrics, summary

if TYPE_CHECKING:
    from ..context import StageContext

__all__ = ["ArrayBatches", "Batches", "Training", "epoch_dataset", "load_weights", "train", "trained_checkpoint"]


class Batches(Protocol):
    """The training data of one epoch, as this worker's share of each global batch."""

    def __len__(self) -> int: ...  # steps per epoch

    def epoch(self, epoch: int, rank: int = 0, workers: int = 1) -> Iterator[tuple[np.ndarray, ...]]: ...


@dataclass
class ArrayBatches:
    """Samples along axis 0 of ``arrays``, served as global batches of ``batch_size`` in an order drawn from
    ``(seed, epoch)``: any epoch can be replayed exactly. ``prepare`` turns a batch into network inputs (type,
    channel axis...); a worker of a data-parallel run gets its slice of every global batch."""

    arrays: tuple[np.ndarray, ...]
    batch_size: int
    seed: int
    prepare: Callable[[tuple[np.ndarray, ...]], tuple[np.ndarray, ...]] | None = None

    def __len__(self) -> int:
        return len(self.arrays[0]) // self.batch_size

    def epoch(self, epoch: int, rank: int = 0, workers: int = 1) -> Iterator[tuple[np.ndarray, ...]]:
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.arrays[0]))
        local = self.batch_size // workers
        for step in range(len(self)):
            index = np.sort(order[step * self.batch_size : (step + 1) * self.batch_size])
            index = index[rank * local : (rank + 1) * local]
            batch = tuple(array[index] for array in self.arrays)
            yield self.prepare(batch) if self.prepare else batch


@dataclass
class Training:
    """What a train stage hands the helper. ``optimizer`` builds the optimizer from the trainable parameters
    (after ``pretrained`` is loaded and ``freeze`` applied). ``validate`` scores the network in inference mode
    with the model's declared metrics. Without ``loss_fn``, ``network`` itself returns the loss from a batch."""

    network: Any
    optimizer: Callable[[list[Any]], Any]
    batches: Batches
    loss_fn: Any = None
    loss_name: str = ""
    validate: Callable[[Any], dict[str, float]] | None = None
    load_weights: Callable[[Any, Path], Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # more facts for the record's metrics


def _fine_tune(ctx: StageContext, training: Training) -> None:
    cfg = ctx.config
    pretrained, freeze = getattr(cfg, "pretrained", None), list(getattr(cfg, "freeze", []) or [])
    if pretrained:
        (training.load_weights or load_weights)(training.network, ctx.input(pretrained))
        ctx.log.info(f"fine-tuning from {pretrained}")
    names = [p.name for p in training.network.get_parameters()]
    for prefix in freeze:
        if not any(name.startswith(prefix) for name in names):
            raise ZooError(f"freeze: '{prefix}' matches no parameter of the network; names start like {names[0]!r}")
    for param in training.network.get_parameters():
        if any(param.name.startswith(prefix) for prefix in freeze):
            param.requires_grad = False


def _model(ctx: StageContext, training: Training) -> Any:
    """MindSpore's ``Model`` over the network, loss and optimizer, with the configured mixed precision."""
    from ..runtime.mindspore_env import load_mindspore

    ms = load_mindspore()
    level = getattr(ctx.config, "amp_level", "O0")
    optimizer = training.optimizer(training.network.trainable_params())
    scale = None if level == "O0" else ms.amp.FixedLossScaleManager(1024.0, drop_overflow_update=False)
    options = {"amp_level": level} | ({"loss_scale_manager": scale} if scale is not None else {})
    return ms.train.Model(training.network, training.loss_fn, optimizer, **options), optimizer


class _Source:
    """The epochs of ``batches`` for MindSpore's GeneratorDataset, from ``first`` on, one pass per epoch. An epoch
    is numbered when its pass starts, not when ``iter`` is called: GeneratorDataset calls ``iter`` once to check
    the source and never reads that pass."""

    def __init__(self, batches: Batches, first: int, rank: int, workers: int) -> None:
        self.batches, self.next, self.rank, self.workers = batches, first, rank, workers

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        return self._pass()

    def _pass(self) -> Iterator[tuple[np.ndarray, ...]]:
        epoch, self.next = self.next, self.next + 1
        yield from self.batches.epoch(epoch, self.rank, self.workers)


def train(ctx: StageContext, training: Training) -> TrainResult:
    """Train ``training`` for ``ctx.config.epochs``; see the module's description."""
    cfg = ctx.config
    steps = len(training.batches)
    if steps == 0:
        raise ZooError(f"batch_size={cfg.batch_size} is larger than the training set; lower it")
    if cfg.batch_size % ctx.workers:
        raise ZooError(
            f"batch_size={cfg.batch_size} is the global batch: make it a multiple of the {ctx.workers} workers"
        )
    _fine_tune(ctx, training)
    model, optimizer = _model(ctx, training)
    state = resume(ctx, model.train_network) if ctx.resume else {}
    start = int(state.get("epoch", 0)) + 1
    metrics_path = ctx.stage_dir / "metrics.jsonl"
    _tidy(ctx, start, metrics_path)
    parameters = int(sum(np.prod(p.shape) for p in training.network.get_parameters()))
    if start <= cfg.epochs:
        ctx.log.info(
            f"training {ctx.model.name} ({parameters:,} parameters) for epochs {start}..{cfg.epochs}: "
            f"{steps} steps of {cfg.batch_size} per epoch"
        )
        with Progress(ctx, training, model.train_network, optimizer, metrics_path, state, steps) as progress:
            model.train(
                cfg.epochs,
                epoch_dataset(training.batches, start, ctx.rank, ctx.workers),
                callbacks=[progress.callback()],
                dataset_sink_mode=False,
                initial_epoch=start - 1,
            )
    if ctx.workers > 1:
        atomic_write_text(ctx.stage_dir / "ranks" / f"rank-{ctx.rank}.sha256", weights_digest(training.network) + "\n")
    ctx.metrics.update(training.extra | {"amp_level": getattr(cfg, "amp_level", "O0")})
    return summary(ctx, training, optimizer, metrics_path, start, parameters)


def _tidy(ctx: StageContext, start: int, metrics_path: Path) -> None:
    """Say when there is nothing to do; a fresh run removes the old epoch checkpoints, a resumed one cuts the
    metrics file back to the checkpoint it starts from (only rank 0 writes files)."""
    epochs = ctx.config.epochs
    if start > epochs:
        ctx.log.info(
            f"nothing to do: trained {start - 1} of {epochs} epochs (raise epochs to train more, "
            f"e.g. --set epochs={epochs * 2} --resume)"
        )
    if ctx.rank != 0:
        return
    if not ctx.resume:
        for _, old in epoch_checkpoints(ctx):
            old.unlink()
    else:
        kept = [json.dumps(row) + "\n" for row in read_metrics(metrics_path) if row.get("epoch", 0) < start]
        atomic_write_text(metrics_path, "".join(kept))


def epoch_dataset(batches: Batches, start: int, rank: int = 0, workers: int = 1) -> Any:
    """MindSpore's GeneratorDataset over the epochs of ``batches`` from ``start`` (ordered, one Python thread):
    what ``Model.train`` reads (``benchmarks/training.py`` measures its rate)."""
    from ..runtime.mindspore_env import load_mindspore

    columns = len(next(iter(batches.epoch(start, rank, workers))))  # epoch() is pure: any epoch replays
    source = _Source(batches, start, rank, workers)
    return load_mindspore().dataset.GeneratorDataset(
        source, column_names=[f"c{i}" for i in range(columns)], shuffle=False, python_multiprocessing=False
    )
