# SPDX-License-Identifier: Apache-2.0
"""The stages of the digits example up to export, written against zoo's public API only. Training, checkpoints,
resume and fine-tuning are zoo's training helper's; the convert stage is the core's."""

from __future__ import annotations

from collections import Counter

import numpy as np

from zoo_core import (
    ArrayBatches,
    Baseline,
    DatasetResult,
    EvalResult,
    ExportedFile,
    ExportResult,
    NetworkResult,
    StageContext,
    TensorSpec,
    Text,
    Training,
    TrainResult,
    atomic_dir,
    atomic_write_csv,
    file_parity,
    load_mindspore,
    load_weights,
    train,
    trained_checkpoint,
)

from .glyphs import SIDE, make

SPLITS = ("train", "val", "test")


def run_dataset(ctx: StageContext) -> DatasetResult:
    cfg = ctx.config
    counts = {"train": cfg.train_images, "val": cfg.val_images, "test": cfg.test_images}
    with atomic_dir(ctx.stage_dir / "prepared") as tmp:
        for offset, split in enumerate(SPLITS):
            images, labels = make(counts[split], cfg.data_seed + offset)
            np.savez(tmp / f"{split}.npz", images=images, labels=labels)
    prepared = ctx.output(ctx.stage_dir / "prepared")
    return DatasetResult(
        source=ctx.rel(prepared),
        synthetic=True,
        layout="generated glyphs",
        splits=counts,
        prepared=ctx.rel(prepared),
        facts={"classes": 10},
    )


def build(seed: int):
    ms = load_mindspore()
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


def run_network(ctx: StageContext) -> NetworkResult:
    net = build(ctx.config.seed)
    return NetworkResult(parameters=int(sum(np.prod(p.shape) for p in net.get_parameters())))


def load_split(ctx: StageContext, split: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(ctx.input(ctx.workdir / "dataset" / "prepared" / f"{split}.npz")) as data:
        return (data["images"][:, None].astype(np.float32) / 255.0), data["labels"]


def predict(net, x: np.ndarray) -> np.ndarray:
    ms = load_mindspore()
    return np.concatenate([net(ms.Tensor(x[i : i + 256])).asnumpy().argmax(1) for i in range(0, len(x), 256)])


def run_train(ctx: StageContext) -> TrainResult:
    cfg, ms = ctx.config, load_mindspore()
    x, y = load_split(ctx, "train")
    val_x, val_y = load_split(ctx, "val")
    return train(
        ctx,
        Training(
            network=build(cfg.seed),
            optimizer=lambda params: ms.nn.Adam(params, cfg.lr),
            batches=ArrayBatches((x, y), cfg.batch_size, cfg.seed),
            loss_fn=ms.nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"),
            loss_name="SoftmaxCrossEntropyWithLogits",
            validate=lambda net: {"top1_accuracy": round(float((predict(net, val_x) == val_y).mean()), 4)},
        ),
    )


def _trained(ctx: StageContext):
    checkpoint = trained_checkpoint(ctx)
    net = build(ctx.config.seed)
    load_weights(net, checkpoint)
    net.set_train(False)
    return net, checkpoint


def run_eval(ctx: StageContext) -> EvalResult:
    net, checkpoint = _trained(ctx)
    x, y = load_split(ctx, "test")
    predicted = predict(net, x)
    rows = zip(range(len(y)), y, predicted, strict=True)
    table = atomic_write_csv(ctx.stage_dir / "predictions.csv", ["sample", "digit", "predicted"], rows)
    common, _ = Counter(load_split(ctx, "train")[1].tolist()).most_common(1)[0]
    return EvalResult(
        scores={"top1_accuracy": round(float((predicted == y).mean()), 4)},
        samples=len(y),
        checkpoint=ctx.rel(checkpoint),
        baseline=Baseline(
            description=Text(
                en=f"always answering {common}, the commonest training digit", zh=f"总是回答训练集最常见的数字 {common}"
            ),
            scores={"top1_accuracy": round(float((y == common).mean()), 4)},
        ),
        predictions=ctx.rel(ctx.output(table)),
    )


def run_export(ctx: StageContext) -> ExportResult:
    ms = load_mindspore()
    net, checkpoint = _trained(ctx)
    sample = load_split(ctx, "test")[0][:1]
    expected = net(ms.Tensor(sample)).asnumpy()
    folder = ctx.stage_dir / "model"
    names = {"digits.mindir": False, "digits.onnx": False, "digits_dynamic.mindir": True}
    with atomic_dir(folder) as tmp:
        for fmt in ("MINDIR", "ONNX"):
            ms.export(net, ms.Tensor(sample), file_name=str(tmp / "digits"), file_format=fmt)
        dynamic = ms.Tensor(shape=[None, 1, SIDE, SIDE], dtype=ms.float32)
        ms.export(net, dynamic, file_name=str(tmp / "digits_dynamic"), file_format="MINDIR")
        np.savez(tmp / "sample.npz", input=sample, expected=expected)
        parity = {name: file_parity(tmp / name, sample, expected) for name in names}
    files = [
        ExportedFile(
            format=name.rsplit(".", 1)[1],
            path=ctx.rel(ctx.output(folder / name)),
            size=(folder / name).stat().st_size,
            dynamic=is_dynamic,
            parity=parity[name],
        )
        for name, is_dynamic in names.items()
    ]
    return ExportResult(
        input=TensorSpec(name="x", shape=[1, 1, SIDE, SIDE], dynamic_axes={0: "batch"}),
        files=files,
        skipped={"air": "AIR export needs MindSpore's Ascend backend"},
        sample=ctx.rel(ctx.output(folder / "sample.npz")),
        checkpoint=ctx.rel(checkpoint),
        device=ms.get_context("device_target"),
    )
