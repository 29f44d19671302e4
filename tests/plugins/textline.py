# SPDX-License-Identifier: Apache-2.0
"""A test plugin unlike MCNN: a per-position classifier of short symbol sequences whose primary metric is a
character error rate (lower is better, in percent) beside a word accuracy, with no baseline, no fine-tuning, no
data of the user's and no pictures. Its README must say only what it can do."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from zoo_core import (
    ArrayBatches,
    DatasetResult,
    DeliverySettings,
    EvalResult,
    ExportedFile,
    ExportResult,
    InferResult,
    Metric,
    ModelSpec,
    NetworkResult,
    StageContext,
    TensorSpec,
    Training,
    TrainingSettings,
    TrainResult,
    atomic_dir,
    atomic_write_csv,
    file_parity,
    hookimpl,
    inference_model,
    load_metadata,
    load_mindspore,
    setting,
    train,
    trained_checkpoint,
)

ZOO_API_VERSION = 2
LENGTH, SYMBOLS, FEATURES = 4, 3, 5
METRICS = (
    Metric(key="cer", en="CER", zh="字符错误率", unit="%", better="lower", primary=True, digits=3),
    Metric(key="word_accuracy", en="Word accuracy", zh="整词准确率", better="higher"),
)


class TextlineConfig(TrainingSettings, DeliverySettings):
    samples: int = setting(300, "Generated sequences.", "dataset", ge=20)
    epochs: int = setting(3, "Training epochs.", "train", ge=1)
    batch_size: int = setting(16, "Sequences per step.", "train", ge=1)
    lr: float = setting(0.05, "Adam learning rate.", "train", gt=0)


def _sequences(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, SYMBOLS, (count, LENGTH)).astype(np.int32)
    codes = np.eye(FEATURES, dtype=np.float32)[labels]  # symbol s -> one-hot at feature s, plus noise
    return (codes + rng.normal(0, 0.6, codes.shape)).reshape(count, -1).astype(np.float32), labels


def run_dataset(ctx: StageContext) -> DatasetResult:
    x, y = _sequences(ctx.config.samples, 5)
    cut = {"train": slice(0, len(x) * 3 // 5), "val": slice(len(x) * 3 // 5, len(x) * 4 // 5)}
    cut["test"] = slice(len(x) * 4 // 5, len(x))
    with atomic_dir(ctx.stage_dir / "prepared") as tmp:
        for split, part in cut.items():
            np.savez(tmp / f"{split}.npz", x=x[part], y=y[part])
    prepared = ctx.rel(ctx.output(ctx.stage_dir / "prepared"))
    splits = {split: part.stop - part.start for split, part in cut.items()}
    return DatasetResult(source=prepared, synthetic=True, layout="sequences", splits=splits, prepared=prepared)


def _split(ctx: StageContext, name: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(ctx.input(ctx.workdir / "dataset" / "prepared" / f"{name}.npz")) as data:
        return data["x"], data["y"]


def _network(seed: int):
    ms = load_mindspore()
    ms.set_seed(seed)
    return ms.nn.Dense(LENGTH * FEATURES, LENGTH * SYMBOLS)


def run_network(ctx: StageContext) -> NetworkResult:
    return NetworkResult(parameters=LENGTH * FEATURES * LENGTH * SYMBOLS + LENGTH * SYMBOLS)


def _scores(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    predicted = logits.reshape(len(labels), LENGTH, SYMBOLS).argmax(-1)
    cer = 100 * float((predicted != labels).mean())
    return {"cer": round(cer, 3), "word_accuracy": round(float((predicted == labels).all(1).mean()), 4)}


def run_train(ctx: StageContext) -> TrainResult:
    ms = load_mindspore()

    class PositionLoss(ms.nn.Cell):
        def __init__(self) -> None:
            super().__init__()
            self.loss = ms.nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")

        def construct(self, logits, labels):
            return self.loss(logits.reshape(-1, SYMBOLS), labels.reshape(-1))

    x, y = _split(ctx, "train")
    val_x, val_y = _split(ctx, "val")
    cfg = ctx.config
    return train(
        ctx,
        Training(
            network=_network(cfg.seed),
            optimizer=lambda params: ms.nn.Adam(params, cfg.lr),
            batches=ArrayBatches((x, y), cfg.batch_size, cfg.seed),
            loss_fn=PositionLoss(),
            loss_name="per-position cross entropy",
            validate=lambda net: _scores(net(ms.Tensor(val_x)).asnumpy(), val_y),
        ),
    )


def _trained(ctx: StageContext):
    from zoo_core import load_weights

    checkpoint = trained_checkpoint(ctx)
    net = _network(0)
    load_weights(net, checkpoint)
    return net, checkpoint


def run_eval(ctx: StageContext) -> EvalResult:
    net, checkpoint = _trained(ctx)
    x, y = _split(ctx, "test")
    scores = _scores(net(load_mindspore().Tensor(x)).asnumpy(), y)
    return EvalResult(scores=scores, samples=len(x), checkpoint=ctx.rel(checkpoint))  # no baseline


def run_export(ctx: StageContext) -> ExportResult:
    ms = load_mindspore()
    net, checkpoint = _trained(ctx)
    sample = _split(ctx, "test")[0][:2]
    expected = net(ms.Tensor(sample)).asnumpy()
    with atomic_dir(ctx.stage_dir / "model") as tmp:
        ms.export(net, ms.Tensor(sample), file_name=str(tmp / "textline"), file_format="ONNX")
        np.savez(tmp / "sample.npz", input=sample, expected=expected)
        parity = file_parity(tmp / "textline.onnx", sample, expected)
    onnx = ctx.stage_dir / "model" / "textline.onnx"
    return ExportResult(
        input=TensorSpec(name="x", shape=[2, LENGTH * FEATURES], layout="ND"),
        files=[ExportedFile(format="onnx", path=ctx.rel(ctx.output(onnx)), size=onnx.stat().st_size, parity=parity)],
        sample=ctx.rel(ctx.output(ctx.stage_dir / "model" / "sample.npz")),
        checkpoint=ctx.rel(checkpoint),
        device="CPU",
    )


def run_infer(ctx: StageContext) -> InferResult:
    model, predict = inference_model(ctx)
    x, y = _split(ctx, "test")
    tick = time.perf_counter()
    logits = np.concatenate([predict(x[i : i + 2]) for i in range(0, len(x) - len(x) % 2, 2)])
    seconds = (time.perf_counter() - tick) / len(logits)
    symbols = ["".join(map(str, row)) for row in logits.reshape(len(logits), LENGTH, SYMBOLS).argmax(-1)]
    table = atomic_write_csv(ctx.stage_dir / "predictions.csv", ["sample", "symbols"], enumerate(symbols))
    return InferResult(
        backend=ctx.config.backend,
        model=ctx.rel(model),
        source="the test split",
        samples=len(logits),
        labelled=len(logits),
        scores=_scores(logits, y[: len(logits)]),
        seconds_per_sample=round(seconds, 6),
        batch_size=2,
        predictions=ctx.rel(ctx.output(table)),
    )


def spec() -> ModelSpec:
    stages = ("dataset", "network", "train", "eval", "export", "infer")
    return ModelSpec(
        name="textline",
        summary="symbol sequences, CER (test plugin)",
        metadata=load_metadata(Path(__file__).with_suffix(".yaml")),
        config_cls=TextlineConfig,
        presets={"default": {}, "smoke": {}},
        stages={stage: f"{__name__}:run_{stage}" for stage in stages},
        metrics=METRICS,
        capabilities={"resume"},
    )


@hookimpl
def zoo_register_models(register) -> None:
    register(spec())
