# SPDX-License-Identifier: Apache-2.0
"""Training checkpoints: ``<model>-<epoch>.ckpt`` (weights, optimizer state and progress) written atomically,
``best.ckpt`` (the best epoch's network weights), loading weights by name and shape, resuming."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ZooError, first_line
from ..io import atomic_path

if TYPE_CHECKING:
    from ..context import StageContext

STATE_KEYS = ("epoch", "step", "best_value", "best_epoch")


def load_weights(network: Any, path: str | Path) -> list[str]:
    """Load a checkpoint's weights into ``network``, every parameter by name with its shape; a file that is not a
    checkpoint, or one of another network, is one error naming the first mismatch. Returns the names loaded."""
    from ..runtime.mindspore_env import load_mindspore

    ms = load_mindspore()
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"checkpoint {path} not found: give an existing .ckpt file")
    try:
        params = ms.load_checkpoint(str(path))
    except Exception as exc:  # noqa: BLE001 - MindSpore raises assorted types for a file that is no checkpoint
        raise ZooError(
            f"{path}: not a readable MindSpore checkpoint ({type(exc).__name__}: {first_line(exc)})"
        ) from None
    wanted = {p.name: p for p in network.get_parameters()}
    missing = [name for name in wanted if name not in params]
    if missing:
        raise ZooError(
            f"{path}: not a checkpoint of this network: missing {len(missing)} of {len(wanted)} parameters "
            f"(first: '{missing[0]}'); expected names like '{next(iter(wanted))}'"
        )
    for name, param in wanted.items():
        if tuple(params[name].shape) != tuple(param.shape):
            raise ZooError(
                f"{path}: parameter '{name}' has shape {tuple(params[name].shape)}, the network needs "
                f"{tuple(param.shape)}: the checkpoint is of another network"
            )
    ms.load_param_into_net(network, {name: params[name] for name in wanted}, strict_load=True)
    return list(wanted)


def weights_digest(network: Any) -> str:
    """sha256 of every parameter's bytes: equal on all ranks of a data-parallel run."""
    digest = hashlib.sha256()
    for param in network.get_parameters():
        digest.update(param.asnumpy().astype(np.float32).tobytes())
    return digest.hexdigest()


def checkpoint_dir(ctx: StageContext) -> Path:
    return ctx.workdir / "train" / "checkpoints"


def epoch_checkpoints(ctx: StageContext) -> list[tuple[int, Path]]:
    """The epoch checkpoints ``<model>-<epoch>.ckpt``, oldest first."""
    pattern = re.compile(rf"^{re.escape(ctx.model.name)}-(\d+)\.ckpt$")
    folder = checkpoint_dir(ctx)
    found = [(int(m.group(1)), p) for p in folder.glob("*.ckpt") if (m := pattern.match(p.name))]
    return sorted(found)


def save_checkpoint(cell: Any, path: Path, state: dict[str, float] | None = None) -> None:
    from ..runtime.mindspore_env import load_mindspore

    ms = load_mindspore()
    needed = sum(int(p.asnumpy().nbytes) for p in cell.get_parameters()) + 4096
    with atomic_path(path, suffix=".ckpt", needed=needed) as tmp:
        ms.save_checkpoint(cell, str(tmp), append_dict=state)


def resume(ctx: StageContext, train_network: Any) -> dict[str, float]:
    """Load the newest readable epoch checkpoint into the training network; returns its saved progress."""
    from ..runtime.mindspore_env import load_mindspore

    ms = load_mindspore()
    for epoch, path in reversed(epoch_checkpoints(ctx)):
        try:
            params = ms.load_checkpoint(str(path))
        except Exception as exc:  # noqa: BLE001 - a damaged file: fall back to the one before
            ctx.warn(f"{path} is unreadable ({type(exc).__name__}); trying the checkpoint before it")
            continue
        state = {key: float(params.pop(key).asnumpy()) for key in STATE_KEYS if key in params}
        params.pop("learning_rate", None)  # rebuilt from the config
        ms.load_param_into_net(train_network, params)
        ctx.last_checkpoint = ctx.input(path)
        ctx.log.info(f"resuming from {path} (epoch {epoch}, step {int(state.get('step', 0))})")
        return state
    ctx.warn(f"--resume: no checkpoint in {checkpoint_dir(ctx)}; training from the start")
    return {}


def trained_checkpoint(ctx: StageContext) -> Path:
    """The checkpoint eval and export read: ``checkpoint`` if the user set it (any checkpoint of the network, one
    of the MindSpore models repository too), else the best one of the last training, checked against its record."""
    given = getattr(ctx.config, "checkpoint", None)
    if given:
        return ctx.input(given)
    result, record = ctx.latest_result("train")
    return ctx.input(ctx.workdir / result.best_checkpoint, record=record)
