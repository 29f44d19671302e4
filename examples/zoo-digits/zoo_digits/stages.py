# SPDX-License-Identifier: Apache-2.0
"""The stages of the digits example, written against zoo's public API only."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from zoo_core import (
    ConvertJob,
    StageContext,
    ZooError,
    atomic_dir,
    atomic_path,
    atomic_write_csv,
    convert_all,
    file_parity,
    load_mindspore,
    open_backend,
    progress,
)

from .glyphs import SIDE, make


def run_dataset(ctx: StageContext) -> None:
    cfg = ctx.config
    with atomic_dir(ctx.stage_dir / "prepared") as tmp:
        for split, count, seed in (
            ("train", cfg.train_images, cfg.data_seed),
            ("test", cfg.test_images, cfg.data_seed + 1),
        ):
            images, labels = make(count, seed)
            np.savez(tmp / f"{split}.npz", images=images, labels=labels)
    ctx.output(ctx.stage_dir / "prepared")
    ctx.metrics.update(
        {"source_kind": "synthetic", "train_images": cfg.train_images, "test_images": cfg.test_images, "classes": 10}
    )


def network(ms, seed: int):
    ms.set_seed(seed)
    nn = ms.nn
    return nn.SequentialCell(
        [
            nn.Conv2d(1, 16, 3, pad_mode="same", has_bias=True),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(16, 32, 3, pad_mode="same", has_bias=True),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Flatten(),
            nn.Dense(32 * (SIDE // 4) ** 2, 10),
        ]
    )


def parameters(net) -> int:
    return int(sum(np.prod(p.shape) for p in net.get_parameters()))


def run_network(ctx: StageContext) -> None:
    ctx.metrics["parameters"] = parameters(network(load_mindspore(), ctx.config.seed))


def _load(ctx: StageContext, split: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(ctx.input(ctx.workdir / "dataset" / "prepared" / f"{split}.npz")) as data:
        return (data["images"][:, None].astype(np.float32) / 255.0), data["labels"]


def run_train(ctx: StageContext) -> None:
    cfg, ms = ctx.config, load_mindspore()
    x, y = _load(ctx, "train")
    net = network(ms, cfg.seed)
    loss = ms.nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    step = ms.nn.TrainOneStepCell(ms.nn.WithLossCell(net, loss), ms.nn.Adam(net.trainable_params(), cfg.lr))
    step.set_train()
    batches = max(1, len(x) // cfg.batch_size)
    times, losses, start = [], [], time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        order = np.random.default_rng([cfg.seed, epoch]).permutation(len(x))
        for b in progress(range(batches), batches, f"epoch {epoch}"):
            index = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            tick = time.perf_counter()
            losses.append(float(step(ms.Tensor(x[index]), ms.Tensor(y[index])).asnumpy()))
            times.append(time.perf_counter() - tick)
        ctx.log.info(f"epoch {epoch}/{cfg.epochs}: loss {np.mean(losses[-batches:]):.4f}")
    checkpoint = ctx.stage_dir / "digits.ckpt"
    with atomic_path(checkpoint, suffix=".ckpt") as tmp:
        ms.save_checkpoint(net, str(tmp))
    ctx.output(checkpoint)
    ctx.metrics.update(
        {
            "final_loss": float(np.mean(losses[-batches:])),
            "ms_per_step": round(1000 * float(np.median(times[1:])), 3),
            "workers": 1,
            "train_time_s": round(time.perf_counter() - start, 3),
            "parameters": parameters(net),
            "optimizer": "Adam",
            "loss_function": "SoftmaxCrossEntropyWithLogits",
            "best_checkpoint": str(checkpoint.relative_to(ctx.workdir)),
            "checkpoint_bytes": checkpoint.stat().st_size,
        }
    )


def _trained(ctx: StageContext, ms):
    net = network(ms, ctx.config.seed)
    checkpoint = ctx.workdir / ctx.latest("train").metrics["best_checkpoint"]
    ms.load_param_into_net(net, ms.load_checkpoint(str(ctx.input(checkpoint))), strict_load=True)
    return net


def run_eval(ctx: StageContext) -> None:
    ms = load_mindspore()
    net = _trained(ctx, ms)
    x, y = _load(ctx, "test")
    predicted = net(ms.Tensor(x)).asnumpy().argmax(1)
    ctx.metrics.update({"scores": {"top1_accuracy": round(float((predicted == y).mean()), 4)}, "samples": len(x)})


def run_export(ctx: StageContext) -> None:
    ms = load_mindspore()
    net = _trained(ctx, ms)
    sample = _load(ctx, "test")[0][:1]
    expected = net(ms.Tensor(sample)).asnumpy()
    folder = ctx.stage_dir / "model"
    with atomic_dir(folder) as tmp:
        for fmt in ("MINDIR", "ONNX"):
            ms.export(net, ms.Tensor(sample), file_name=str(tmp / "digits"), file_format=fmt)
        np.savez(tmp / "sample.npz", input=sample, expected=expected)
    files = {fmt: folder / f"digits.{fmt}" for fmt in ("mindir", "onnx")}
    ctx.outputs.extend(files.values())
    ctx.metrics.update(
        {
            "formats": {fmt: str(p.relative_to(ctx.workdir)) for fmt, p in files.items()},
            "sizes": {fmt: p.stat().st_size for fmt, p in files.items()},
            "parity": {fmt: file_parity(p, sample, expected) for fmt, p in files.items()},
            "skipped": {"air": "AIR export needs MindSpore's Ascend backend"},
            "input_shape": [1, 1, SIDE, SIDE],
            "input_name": "x",
            "sample": str((folder / "sample.npz").relative_to(ctx.workdir)),
        }
    )


def run_convert(ctx: StageContext) -> None:
    export = ctx.latest("export").metrics
    with np.load(ctx.workdir / export["sample"]) as sample:
        reference = (sample["input"], sample["expected"])
    out = ctx.stage_dir / "models"
    out.mkdir(parents=True, exist_ok=True)
    convert_all(
        ctx,
        {fmt: ctx.workdir / p for fmt, p in export["formats"].items()},
        lambda source: ConvertJob(source, out, "digits", "x", (1, 1, SIDE, SIDE), sample=reference),
    )


def _images(folder: Path, ctx: StageContext) -> tuple[list[str], np.ndarray]:
    names, images = [], []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            ctx.warn(f"skipped {path}: not a readable image")
            continue
        names.append(path.name)
        images.append(cv2.resize(image, (SIDE, SIDE), interpolation=cv2.INTER_AREA))
    if not images:
        raise ZooError(f"{folder}: no readable images")
    return names, np.stack(images)[:, None].astype(np.float32) / 255.0


def run_infer(ctx: StageContext) -> None:
    """Read the digit in each image of ``--data FOLDER`` (white on black), or of the test split."""
    export = ctx.latest("export")
    fmt = "onnx" if ctx.config.backend == "onnxruntime" else "mindir"
    predict = open_backend(ctx.config.backend, ctx.input(ctx.workdir / export.metrics["formats"][fmt], record=export))
    if ctx.data is not None:
        names, x = _images(Path(ctx.data), ctx)
        y = None
    else:
        x, y = _load(ctx, "test")
        names = [f"test_{i}" for i in range(len(x))]
    tick = time.perf_counter()
    digits = np.array([int(predict(x[i : i + 1]).argmax()) for i in range(len(x))])
    seconds = (time.perf_counter() - tick) / len(x)
    ctx.output(atomic_write_csv(ctx.stage_dir / "predictions.csv", ["image", "digit"], zip(names, digits, strict=True)))
    ctx.metrics.update({"backend": ctx.config.backend, "samples": len(x), "seconds_per_image": round(seconds, 6)})
    if y is not None:
        ctx.metrics["scores"] = {"top1_accuracy": round(float((digits == y).mean()), 4)}
