# SPDX-License-Identifier: Apache-2.0
"""The train stage: MSE on density maps, Adam (or SGD) with step decay, validation MAE/MSE after each epoch.

Checkpoints, resume, fine-tuning, the best epoch (lowest validation MAE, the primary metric), the log lines and
data-parallel workers are zoo's training helper's (``zoo_core.training``); this module gives it MCNN's network,
loss, optimizer and data. ``best.ckpt`` holds the network weights under the MindSpore models repository's
parameter names.
"""

from __future__ import annotations

import math

import numpy as np

from zoo_core import ArrayBatches, StageContext, Training, TrainResult, ZooError, load_mindspore, train

from .config import McnnConfig
from .dataset import iter_images, prepared_dir
from .evaluate import evaluate_images, load_images
from .network import build_network, load_weights

ms = load_mindspore()


def lr_schedule(cfg: McnnConfig, total_steps: int) -> list[float]:
    """Per-step learning rate: ``lr``, times ``lr_decay`` after each fraction in ``lr_steps`` of training."""
    bounds = [int(math.ceil(f * total_steps)) for f in cfg.lr_steps]
    return [cfg.lr * cfg.lr_decay ** sum(step >= b for b in bounds) for step in range(total_steps)]


def _as_inputs(batch: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """uint8 patches (N, P, P) and their density maps (N, P/4, P/4) as the network's (N, 1, ...) float32 tensors."""
    images, densities = batch
    return images[:, None].astype(np.float32), densities[:, None]


def run(ctx: StageContext) -> TrainResult:
    cfg: McnnConfig = ctx.config
    train_file = prepared_dir(ctx.workdir) / "train.npz"
    if not train_file.is_file():
        raise ZooError(
            f"the prepared data in {prepared_dir(ctx.workdir)} has no training split (a test-only "
            f"layout?); give --data a folder with train_data/ and test_data/"
        )
    with np.load(ctx.input(train_file)) as data:
        batches = ArrayBatches((data["images"], data["densities"]), cfg.batch_size, cfg.seed, _as_inputs)
    val_paths = iter_images(ctx.workdir, "val")
    val = load_images(val_paths)
    if val_paths:
        ctx.input(val_paths[0].parent)

    def optimizer(params: list) -> object:
        schedule = lr_schedule(cfg, cfg.epochs * len(batches))
        if cfg.optimizer == "adam":
            return ms.nn.Adam(params, learning_rate=schedule, weight_decay=cfg.weight_decay)
        return ms.nn.Momentum(params, learning_rate=schedule, momentum=cfg.momentum, weight_decay=cfg.weight_decay)

    def validate(net: object) -> dict[str, float]:
        mae, mse, _ = evaluate_images(net, val)
        return {"mae": mae, "mse": mse}

    return train(
        ctx,
        Training(
            network=build_network(cfg.seed),
            loss_fn=ms.nn.MSELoss(),
            optimizer=optimizer,
            batches=batches,
            loss_name="MSELoss (mean over density-map pixels)",
            validate=validate if val else None,
            load_weights=load_weights,
        ),
    )
