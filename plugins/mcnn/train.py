# SPDX-License-Identifier: Apache-2.0
"""The train stage: MSE on density maps, Adam (or SGD) with step decay, a checkpoint per epoch, best-MAE kept.

Checkpoints in ``<workdir>/train/checkpoints/``: ``mcnn-<epoch>.ckpt`` hold weights, optimizer state and the
step count (``--resume`` continues from the newest readable one); ``best.ckpt`` holds the network weights of the
epoch with the lowest validation MAE, under the MindSpore models repository's parameter names.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np

from zoo_core import StageContext, ZooError, atomic_path, atomic_write_text, format_eta, load_mindspore, progress, stamp

from .config import McnnConfig
from .dataset import iter_images, prepared_dir
from .evaluate import evaluate_images, load_images
from .network import build_network, load_weights, parameter_count

ms = load_mindspore()
STATE_KEYS = ("epoch", "step", "best_mae", "best_epoch")


def lr_schedule(cfg: McnnConfig, total_steps: int) -> list[float]:
    """Per-step learning rate: ``lr``, times ``lr_decay`` after each fraction in ``lr_steps`` of training."""
    bounds = [int(math.ceil(f * total_steps)) for f in cfg.lr_steps]
    return [cfg.lr * cfg.lr_decay ** sum(step >= b for b in bounds) for step in range(total_steps)]


def checkpoint_dir(workdir: Path) -> Path:
    return Path(workdir) / "train" / "checkpoints"


def _epoch_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    found = []
    for path in folder.glob("mcnn-*.ckpt"):
        suffix = path.stem.removeprefix("mcnn-")
        if suffix.isdigit():
            found.append((int(suffix), path))
    return sorted(found)


def _save(cell, path: Path, state: dict[str, float] | None = None) -> None:
    needed = sum(int(p.asnumpy().nbytes) for p in cell.get_parameters()) + 4096
    with atomic_path(path, suffix=".ckpt", needed=needed) as tmp:
        ms.save_checkpoint(cell, str(tmp), append_dict=state)


def _resume(ctx: StageContext, train_net, folder: Path) -> dict[str, float]:
    """Load the newest readable epoch checkpoint into the training cell; returns its saved state."""
    for epoch, path in reversed(_epoch_checkpoints(folder)):
        try:
            params = ms.load_checkpoint(str(path))
        except Exception as exc:  # noqa: BLE001 - a damaged file: fall back to the one before
            ctx.warn(f"{path} is unreadable ({type(exc).__name__}); trying the checkpoint before it")
            continue
        state = {key: float(params.pop(key).asnumpy()) for key in STATE_KEYS if key in params}
        params.pop("learning_rate", None)  # rebuilt from the config
        ms.load_param_into_net(train_net, params)
        ctx.last_checkpoint = ctx.input(path)
        ctx.log.info(f"resuming from {path} (epoch {epoch}, step {int(state.get('step', 0))})")
        return state
    ctx.warn(f"--resume: no checkpoint in {folder}; training from the start")
    return {}


def _train_cell(net, optimizer, amp_level: str):
    """One training step: MSE on density maps; FP16 compute with a fixed loss scale for O1-O3 (what MindSpore
    allows on CPU: no dynamic scale, no skipping of overflowed steps)."""
    scale = None if amp_level == "O0" else ms.amp.FixedLossScaleManager(1024.0, drop_overflow_update=False)
    cell = ms.amp.build_train_network(net, optimizer, ms.nn.MSELoss(), level=amp_level, loss_scale_manager=scale)
    cell.set_train()
    return cell


def weights_digest(net) -> str:
    """sha256 of every parameter's bytes: equal on all ranks of a data-parallel run."""
    import hashlib

    digest = hashlib.sha256()
    for param in net.get_parameters():
        digest.update(param.asnumpy().astype(np.float32).tobytes())
    return digest.hexdigest()


def read_metrics(path: Path) -> list[dict]:
    """The lines of a metrics file; a line a killed run left half-written is dropped."""
    lines = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def _truncate_metrics(path: Path, epoch: int) -> None:
    """Drop metric lines written after the checkpoint a resumed run starts from (they will be written again)."""
    if path.is_file():
        kept = [json.dumps(line) + "\n" for line in read_metrics(path) if line.get("epoch", 0) <= epoch]
        atomic_write_text(path, "".join(kept))


def _seed_line(epoch: int, epochs: int, batch: int, batches: int, loss: float, lr: float, eta: float) -> str:
    return (
        f"{stamp()} Train epoch: [{epoch}/{epochs}], batch: [{batch}/{batches}], loss: {loss:.6g}, "
        f"learning rate: {lr:.8f}, eta: {format_eta(eta)}"
    )


def _setup(ctx: StageContext, cfg: McnnConfig, steps: int):
    """The network, optimizer and training cell, fine-tuned from ``pretrained`` when set."""
    net = build_network(cfg.seed)
    if cfg.pretrained:
        load_weights(net, ctx.input(cfg.pretrained))
        ctx.log.info(f"fine-tuning from {cfg.pretrained}")
    params = net.trainable_params()
    schedule = lr_schedule(cfg, cfg.epochs * steps)
    if cfg.optimizer == "adam":
        optimizer = ms.nn.Adam(params, learning_rate=schedule, weight_decay=cfg.weight_decay)
    else:
        optimizer = ms.nn.Momentum(params, learning_rate=schedule, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    return net, optimizer, _train_cell(net, optimizer, cfg.amp_level), schedule


def _epoch(
    ctx: StageContext,
    epoch: int,
    data: tuple[np.ndarray, np.ndarray],
    train_net,
    schedule: list[float],
    metrics,
    step_times: list[float],
) -> list[float]:
    """One pass over the patches (this rank's share of each global batch); returns the step losses."""
    cfg: McnnConfig = ctx.config
    images, densities = data
    steps = len(images) // cfg.batch_size
    local = cfg.batch_size // ctx.workers
    order = np.random.default_rng([cfg.seed, epoch]).permutation(len(images))
    losses = []
    for batch in progress(range(steps), steps, f"epoch {epoch}/{cfg.epochs}"):
        index = np.sort(order[batch * cfg.batch_size : (batch + 1) * cfg.batch_size])
        index = index[ctx.rank * local : (ctx.rank + 1) * local]
        x = ms.Tensor(images[index][:, None].astype(np.float32))
        y = ms.Tensor(densities[index][:, None])
        tick = time.perf_counter()
        out = train_net(x, y)
        loss = float((out[0] if isinstance(out, tuple) else out).asnumpy())
        step_times.append(time.perf_counter() - tick)
        if not math.isfinite(loss):
            raise ZooError(
                f"loss became {loss} at epoch {epoch}, batch {batch + 1}; lower lr (now {cfg.lr}) and run again"
            )
        losses.append(loss)
        global_step = (epoch - 1) * steps + batch
        metrics.write(
            json.dumps(
                {"type": "step", "epoch": epoch, "step": global_step + 1, "loss": loss, "lr": schedule[global_step]}
            )
            + "\n"
        )
        if (batch + 1) % cfg.log_every == 0 or batch + 1 == steps:
            eta = float(np.median(step_times)) * (cfg.epochs * steps - global_step - 1)
            ctx.log.info(_seed_line(epoch, cfg.epochs, batch + 1, steps, loss, schedule[global_step], eta))
    return losses


def run_train(ctx: StageContext) -> None:
    cfg: McnnConfig = ctx.config
    train_file = prepared_dir(ctx.workdir) / "train.npz"
    if not train_file.is_file():
        raise ZooError(
            f"the prepared data in {prepared_dir(ctx.workdir)} has no training split (a test-only "
            f"layout?); give --data a folder with train_data/ and test_data/"
        )
    with np.load(ctx.input(train_file)) as data:
        images, densities = data["images"], data["densities"]
    steps = len(images) // cfg.batch_size
    if steps == 0:
        raise ZooError(f"batch_size={cfg.batch_size} is larger than the {len(images)} training patches; lower it")
    if cfg.batch_size % ctx.workers:
        raise ZooError(
            f"batch_size={cfg.batch_size} is the global batch: make it a multiple of the {ctx.workers} workers"
        )
    net, optimizer, train_net, schedule = _setup(ctx, cfg, steps)
    main = ctx.rank == 0  # the only rank that logs, evaluates and writes files
    folder = checkpoint_dir(ctx.workdir)
    folder.mkdir(parents=True, exist_ok=True)
    state = _resume(ctx, train_net, folder) if ctx.resume else {}
    start = int(state.get("epoch", 0)) + 1
    if start > cfg.epochs:
        ctx.log.info(
            f"nothing to do: trained {start - 1} of {cfg.epochs} epochs (raise epochs to train more, "
            f"e.g. --set epochs={cfg.epochs * 2} --resume)"
        )
    elif not ctx.resume and main:
        for _, old in _epoch_checkpoints(folder):
            old.unlink()
    metrics_path = ctx.stage_dir / "metrics.jsonl"
    if ctx.resume and main:
        _truncate_metrics(metrics_path, start - 1)
    ctx.log.info(
        f"training MCNN ({parameter_count(net):,} parameters) for epochs {start}..{cfg.epochs}: "
        f"{len(images)} patches, batch {cfg.batch_size}, {steps} steps/epoch, {cfg.optimizer} lr {cfg.lr}"
    )
    step_times: list[float] = []
    _epochs(ctx, (images, densities), (net, train_net), schedule, state, metrics_path, step_times)
    if ctx.workers > 1:
        atomic_write_text(ctx.stage_dir / "ranks" / f"rank-{ctx.rank}.sha256", weights_digest(net) + "\n")
    if main:
        _results(ctx, net, optimizer, folder, metrics_path, start, steps)


def _epochs(
    ctx: StageContext,
    data,
    nets,
    schedule: list[float],
    state: dict[str, float],
    metrics_path: Path,
    step_times: list[float],
) -> None:
    """Train from the epoch after ``state``'s to ``epochs``; rank 0 validates, logs and saves checkpoints."""
    cfg: McnnConfig = ctx.config
    net, train_net = nets
    folder = checkpoint_dir(ctx.workdir)
    steps = len(data[0]) // cfg.batch_size
    start = int(state.get("epoch", 0)) + 1
    best_mae, best_epoch = state.get("best_mae", math.inf), int(state.get("best_epoch", 0))
    val_paths = iter_images(ctx.workdir, "val")
    val = load_images(val_paths)
    if val_paths:
        ctx.input(val_paths[0].parent)
    main = ctx.rank == 0
    with open(metrics_path if main else os.devnull, "a" if ctx.resume else "w", encoding="utf-8") as metrics:
        for epoch in range(start, cfg.epochs + 1):
            epoch_clock = time.perf_counter()
            first = len(step_times)
            losses = _epoch(ctx, epoch, data, train_net, schedule, metrics, step_times)
            if not main:
                continue
            mae, mse, _ = evaluate_images(net, val) if val else (math.nan, math.nan, [])
            elapsed = time.perf_counter() - epoch_clock
            ctx.log.info(
                f"{stamp()} Test epoch: {epoch}, time/epoch: {format_eta(elapsed)}, "
                f"loss: {np.mean(losses):.6g}, mae: {mae:.3f}, mse: {mse:.3f}"
            )
            improved = not val or mae < best_mae
            timed = step_times[first + 1 :] if epoch == start else step_times[first:]  # first step: compilation
            metrics.write(
                json.dumps(
                    {
                        "type": "epoch",
                        "epoch": epoch,
                        "loss": float(np.mean(losses)),
                        "val_mae": mae,
                        "val_mse": mse,
                        "time_s": round(elapsed, 3),
                        "ms_per_step": round(1000 * float(np.median(timed or step_times[first:])), 3),
                        "best": improved,
                    }
                )
                + "\n"
            )
            metrics.flush()
            if improved:
                best_mae, best_epoch = (mae if val else math.nan), epoch
                _save(net, folder / "best.ckpt")
                ctx.output(folder / "best.ckpt")
            _save(
                train_net,
                folder / f"mcnn-{epoch}.ckpt",
                {"epoch": epoch, "step": epoch * steps, "best_mae": best_mae, "best_epoch": best_epoch},
            )
            ctx.checkpoint(folder / f"mcnn-{epoch}.ckpt")
            for _, old in _epoch_checkpoints(folder)[: -cfg.keep_checkpoint_max]:
                old.unlink()


def _results(ctx: StageContext, net, optimizer, folder: Path, metrics_path: Path, start: int, steps: int) -> None:
    """The train record's results, from the checkpoints and the metrics file, so that a run resumed after an
    interruption (or with nothing left to do) records what an uninterrupted run records."""
    cfg: McnnConfig = ctx.config
    epochs = [line for line in read_metrics(metrics_path) if line.get("type") == "epoch"]
    last = _epoch_checkpoints(folder)[-1][1] if _epoch_checkpoints(folder) else None
    if last is None or not epochs or not (folder / "best.ckpt").is_file():
        raise ZooError(f"{folder} lacks the checkpoints of a finished training; train again without --resume")
    state = {key: float(v.asnumpy()) for key, v in ms.load_checkpoint(str(last)).items() if key in STATE_KEYS}
    best_mae = state.get("best_mae", math.nan)
    for path in (folder / "best.ckpt", last, metrics_path):
        ctx.output(path)
    ctx.metrics.update(
        {
            "epochs": cfg.epochs,
            "epochs_run": cfg.epochs - start + 1,
            "steps_per_epoch": steps,
            "batch_size": cfg.batch_size,
            "final_loss": epochs[-1]["loss"],
            "optimizer": type(optimizer).__name__,
            "loss_function": "MSELoss (mean over density-map pixels)",
            "best_val_mae": None if math.isnan(best_mae) else round(best_mae, 4),
            "best_epoch": int(state.get("best_epoch", 0)),
            "ms_per_step": round(
                float(np.median([e["ms_per_step"] for e in epochs if "ms_per_step" in e] or [0.0])), 3
            ),
            "workers": ctx.workers,
            "amp_level": cfg.amp_level,
            "precision": "FP32" if cfg.amp_level == "O0" else "Mixed",
            "train_time_s": round(sum(e["time_s"] for e in epochs), 3),
            "parameters": parameter_count(net),
            "best_checkpoint": str((folder / "best.ckpt").relative_to(ctx.workdir)),
            "last_checkpoint": str(last.relative_to(ctx.workdir)),
            "checkpoint_bytes": (folder / "best.ckpt").stat().st_size,
            "metrics_file": str(metrics_path.relative_to(ctx.workdir)),
        }
    )
