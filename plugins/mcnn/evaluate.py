# SPDX-License-Identifier: Apache-2.0
"""The eval stage: MAE and MSE (root of the mean squared count error, as in the crowd-counting literature) on
the test split, next to the baseline of predicting the mean training count for every image."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo_core import (
    Baseline,
    EvalResult,
    StageContext,
    Text,
    ZooError,
    atomic_write_csv,
    load_mindspore,
    progress,
    trained_checkpoint,
)

from .dataset import iter_images, read_manifest
from .network import build_network, load_weights
from .scores import count_errors

ms = load_mindspore()

Image = tuple[str, np.ndarray, float]


def load_images(paths: list[Path]) -> list[Image]:
    images = []
    for path in paths:
        with np.load(path) as data:
            images.append((path.stem, data["image"], float(data["count"])))
    return images


def evaluate_images(net, images: list[Image]) -> tuple[float, float, list[tuple[str, float, float]]]:
    """Whole images at native size, batch 1, with ``net`` in inference mode (a new network is; the training helper
    switches it for validation). Returns MAE, MSE and (name, truth, predicted)."""
    rows = []
    for name, image, count in progress(images, len(images), "evaluating"):
        density = net(ms.Tensor(image[None, None].astype(np.float32))).asnumpy()
        rows.append((name, count, float(density.astype(np.float64).sum())))  # FP16 under mixed precision
    mae, mse = count_errors(np.array([r[2] for r in rows]), np.array([r[1] for r in rows]))
    return mae, mse, rows


def run(ctx: StageContext) -> EvalResult:
    paths = iter_images(ctx.workdir, "test")
    if not paths:
        raise ZooError(
            f"the prepared data in {ctx.workdir / 'dataset'} has no test images; give --data a folder "
            f"with test_data/ and run the dataset stage"
        )
    ctx.input(paths[0].parent)
    checkpoint = trained_checkpoint(ctx)
    net = build_network()
    load_weights(net, checkpoint)
    mae, mse, rows = evaluate_images(net, load_images(paths))
    table = ctx.output(
        atomic_write_csv(
            ctx.stage_dir / "predictions.csv",
            ["image", "gt_count", "predicted_count", "error"],
            [(name, f"{gt:.3f}", f"{pred:.3f}", f"{pred - gt:.3f}") for name, gt, pred in rows],
        )
    )
    ctx.log.info(f"evaluation on {len(rows)} test images with {checkpoint}: MAE {mae:.3f}, MSE {mse:.3f}")
    return EvalResult(
        scores={"mae": round(mae, 4), "mse": round(mse, 4)},
        samples=len(rows),
        checkpoint=ctx.rel(checkpoint),
        baseline=_baseline(ctx, np.array([r[1] for r in rows])),
        predictions=ctx.rel(table),
    )


def _baseline(ctx: StageContext, truth: np.ndarray) -> Baseline | None:
    """Predicting the mean training count for every image: what the model has to beat."""
    mean_count = read_manifest(ctx.workdir).get("mean_train_count")
    if mean_count is None:
        return None
    mae, mse = count_errors(np.full_like(truth, mean_count), truth)
    ctx.log.info(
        f"baseline (predict the mean training count {mean_count:.1f} for every image): MAE {mae:.3f}, MSE {mse:.3f}"
    )
    return Baseline(
        description=Text(
            en=f"predicting the mean training count ({mean_count:.1f}) for every image",
            zh=f"对每张图像都预测训练集平均人数（{mean_count:.1f}）",
        ),
        scores={"mae": round(mae, 4), "mse": round(mse, 4)},
    )
