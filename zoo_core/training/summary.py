# SPDX-License-Identifier: Apache-2.0
"""The :class:`~zoo_core.results.TrainResult` of a training, built from its files (the metrics file's epoch lines
and the last checkpoint), so a run resumed after an interruption, or with nothing left to do, records what the
uninterrupted run records (timings aside)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ZooError
from ..results import EpochPoint, TrainResult
from .checkpoints import STATE_KEYS, checkpoint_dir, epoch_checkpoints

if TYPE_CHECKING:
    from ..context import StageContext
    from . import Training


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The lines of a metrics file; a line a killed run left half-written is dropped."""
    rows = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


def summary(
    ctx: StageContext, training: Training, optimizer: Any, metrics_path: Path, start: int, parameters: int
) -> TrainResult:
    from ..runtime.mindspore_env import load_mindspore

    cfg = ctx.config
    folder = checkpoint_dir(ctx)
    epochs = [row for row in read_metrics(metrics_path) if row.get("type") == "epoch"]
    checkpoints = epoch_checkpoints(ctx)
    if not checkpoints or not epochs or not (folder / "best.ckpt").is_file():
        raise ZooError(f"{folder} lacks the checkpoints of a finished training; train again without --resume")
    last = checkpoints[-1][1]
    state = {k: float(v.asnumpy()) for k, v in load_mindspore().load_checkpoint(str(last)).items() if k in STATE_KEYS}
    for path in (folder / "best.ckpt", last, metrics_path):
        ctx.output(path)
    history = [
        EpochPoint(
            epoch=row["epoch"],
            loss=row["loss"],
            metrics=row.get("metrics", {}),
            seconds=row["seconds"],
            ms_per_step=row.get("ms_per_step"),
        )
        for row in epochs
    ]
    timed = [point.ms_per_step for point in history if point.ms_per_step is not None]
    amp = getattr(cfg, "amp_level", "O0")
    pretrained = getattr(cfg, "pretrained", None)
    return TrainResult(
        epochs=cfg.epochs,
        epochs_run=max(0, cfg.epochs - start + 1),  # 0: every epoch was done (or epochs was lowered)
        steps_per_epoch=len(training.batches),
        batch_size=cfg.batch_size,
        workers=ctx.workers,
        best_checkpoint=ctx.rel(folder / "best.ckpt"),
        last_checkpoint=ctx.rel(last),
        checkpoint_bytes=(folder / "best.ckpt").stat().st_size,
        best_epoch=int(state.get("best_epoch", history[-1].epoch)),
        history=history,
        final_loss=history[-1].loss,
        optimizer=type(optimizer).__name__,
        loss_function=training.loss_name or type(training.loss_fn).__name__,
        precision="FP32" if amp == "O0" else "Mixed",
        ms_per_step=round(float(np.median(timed)) if timed else 0.0, 3),
        train_time_s=round(sum(point.seconds for point in history), 3),
        parameters=parameters,
        fine_tuned_from=str(pretrained) if pretrained else None,
        frozen=list(getattr(cfg, "freeze", []) or []),
        metrics_file=ctx.rel(metrics_path),
    )
