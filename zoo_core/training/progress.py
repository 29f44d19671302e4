# SPDX-License-Identifier: Apache-2.0
"""Each step and epoch of a training, as a MindSpore ``Callback``: seed-style log lines (per-batch loss, learning
rate and eta; per-epoch loss, validation metrics and time), a JSON line per step and per epoch, and at each
epoch's end (rank 0 only) validation, the best epoch's weights and an atomic checkpoint of the epoch."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from ..errors import ZooError
from ..progress import format_eta, stamp
from .checkpoints import checkpoint_dir, epoch_checkpoints, save_checkpoint

if TYPE_CHECKING:
    from ..context import StageContext
    from . import Training


def _learning_rates(optimizer: Any) -> np.ndarray | None:
    """The optimizer's learning rate per step (a schedule given as a list) or its one value; None if unknown."""
    rate: Any = getattr(optimizer, "learning_rate", None)
    rate = getattr(rate, "learning_rate", rate)  # a schedule given as a list sits in a cell of its own
    if not hasattr(rate, "asnumpy"):
        return None
    return np.asarray(rate.asnumpy(), dtype=np.float64).reshape(-1)


def _validated(training: Training, network: Any) -> dict[str, float]:
    """The model's validation scores, computed in inference mode (training mode is restored after)."""
    if training.validate is None:
        return {}
    mode = network.training
    network.set_train(False)
    try:
        return {key: float(value) for key, value in training.validate(network).items()}
    finally:
        network.set_train(mode)


class Progress:
    """What the helper does around ``Model.train``; a context manager holding the metrics file open."""

    def __init__(
        self,
        ctx: StageContext,
        training: Training,
        train_network: Any,
        optimizer: Any,
        path: Path,
        state: dict[str, float],
        steps: int,
    ) -> None:
        self.ctx, self.training, self.train_network, self.path, self.steps = ctx, training, train_network, path, steps
        self.rates = _learning_rates(optimizer)
        primary = ctx.model.primary
        self.primary = primary
        worst = -math.inf if primary is not None and primary.better == "higher" else math.inf
        self.best_value, self.best_epoch = state.get("best_value", worst), int(state.get("best_epoch", 0))
        self.main = ctx.rank == 0
        self.file: TextIO | None = None
        self.step_times: list[float] = []
        self.epoch = self.batch = self.first_step = 0
        self.tick = self.epoch_clock = 0.0
        self.losses: list[float] = []

    def __enter__(self) -> Progress:
        if self.main:  # a resumed run appends to what the interrupted one wrote (cut back to its checkpoint)
            self.file = open(self.path, "a" if self.ctx.resume else "w", encoding="utf-8")  # noqa: SIM115
        return self

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()

    def callback(self) -> Any:
        from ..runtime.mindspore_env import load_mindspore

        progress = self

        class _Callback(load_mindspore().train.Callback):  # type: ignore[misc]
            def on_train_epoch_begin(self, run_context: Any) -> None:
                progress.begin_epoch(run_context.original_args().cur_epoch_num)

            def on_train_step_begin(self, run_context: Any) -> None:
                progress.tick = time.perf_counter()

            def on_train_step_end(self, run_context: Any) -> None:
                progress.end_step(run_context.original_args().net_outputs)

            def on_train_epoch_end(self, run_context: Any) -> None:
                progress.end_epoch()

        return _Callback()

    def _write(self, row: dict[str, Any]) -> None:
        if self.file is not None:
            self.file.write(json.dumps(row) + "\n")

    def _rate(self, step: int) -> float:
        if self.rates is None or not len(self.rates):
            return math.nan
        return float(self.rates[min(step, len(self.rates) - 1)])

    def begin_epoch(self, epoch: int) -> None:
        self.epoch, self.batch, self.losses = epoch, 0, []
        self.epoch_clock = time.perf_counter()
        self.first_step = len(self.step_times)

    def end_step(self, outputs: Any) -> None:
        self.step_times.append(time.perf_counter() - self.tick)
        loss = float((outputs[0] if isinstance(outputs, tuple) else outputs).asnumpy())
        self.batch += 1
        if not math.isfinite(loss):
            raise ZooError(
                f"loss became {loss} at epoch {self.epoch}, batch {self.batch}; lower the learning rate and run again"
            )
        self.losses.append(loss)
        step = (self.epoch - 1) * self.steps + self.batch - 1
        self._write({"type": "step", "epoch": self.epoch, "step": step + 1, "loss": loss, "lr": self._rate(step)})
        cfg = self.ctx.config
        if self.batch % cfg.log_every == 0 or self.batch == self.steps:
            eta = float(np.median(self.step_times)) * (cfg.epochs * self.steps - step - 1)
            self.ctx.log.info(
                f"{stamp()} Train epoch: [{self.epoch}/{cfg.epochs}], batch: [{self.batch}/{self.steps}], "
                f"loss: {loss:.6g}, learning rate: {self._rate(step):.8f}, eta: {format_eta(eta)}"
            )

    def end_epoch(self) -> None:
        if not self.main:
            return
        network = self.training.network
        scores = _validated(self.training, network)
        elapsed = time.perf_counter() - self.epoch_clock
        mean = float(np.mean(self.losses))
        shown = "".join(f", {key}: {value:.4g}" for key, value in scores.items())
        self.ctx.log.info(
            f"{stamp()} Test epoch: {self.epoch}, time/epoch: {format_eta(elapsed)}, loss: {mean:.6g}{shown}"
        )
        value = scores.get(self.primary.key, math.nan) if self.primary is not None else math.nan
        improved = not scores or (self.primary is not None and self.primary.better_of(value, self.best_value))
        timed = self.step_times[self.first_step :]
        timed = timed[1:] if self.first_step == 0 and len(timed) > 1 else timed  # the first step compiles the graph
        self._write(
            {
                "type": "epoch",
                "epoch": self.epoch,
                "loss": mean,
                "metrics": scores,
                "seconds": round(elapsed, 3),
                "ms_per_step": round(1000 * float(np.median(timed)), 3),
                "best": improved,
            }
        )
        if self.file is not None:
            self.file.flush()
        folder = checkpoint_dir(self.ctx)
        if improved:
            self.best_value, self.best_epoch = (value if scores else math.nan), self.epoch
            save_checkpoint(network, folder / "best.ckpt")
            self.ctx.output(folder / "best.ckpt")
        state = {
            "epoch": self.epoch,
            "step": self.epoch * self.steps,
            "best_value": self.best_value,
            "best_epoch": self.best_epoch,
        }
        path = folder / f"{self.ctx.model.name}-{self.epoch}.ckpt"
        save_checkpoint(self.train_network, path, state)
        self.ctx.checkpoint(path)
        for _, old in epoch_checkpoints(self.ctx)[: -self.ctx.config.keep_checkpoint_max]:
            old.unlink()
