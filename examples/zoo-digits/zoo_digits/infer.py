# SPDX-License-Identifier: Apache-2.0
"""The infer stage of the digits example: read the digit in each image of ``--data FOLDER`` (white on black, any
size), or of the test split, with the exported model zoo picks for the configured backend."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from zoo_core import InferResult, StageContext, ZooError, atomic_write_csv, inference_model

from .glyphs import SIDE
from .stages import load_split


def _images(folder: Path, ctx: StageContext) -> tuple[list[str], np.ndarray, list[str]]:
    if not folder.is_dir():
        raise ZooError(f"--data {folder}: not a folder; give a folder of digit images")
    names: list[str] = []
    images: list[np.ndarray] = []
    skipped: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            ctx.warn(f"skipped {path}: not a readable image")
            skipped.append(path.name)
            continue
        names.append(path.name)
        images.append(cv2.resize(image, (SIDE, SIDE), interpolation=cv2.INTER_AREA))
    if not images:
        raise ZooError(f"--data {folder}: no readable images")
    return names, np.stack(images)[:, None].astype(np.float32) / 255.0, skipped


def run(ctx: StageContext) -> InferResult:
    model, predict = inference_model(ctx)
    if ctx.data is not None:
        names, x, skipped = _images(Path(ctx.data), ctx)
        y, source = None, str(ctx.data)
    else:
        (x, y), skipped = load_split(ctx, "test"), []
        names, source = [f"test_{i}" for i in range(len(x))], "the test split"
    seconds, digits = [], []
    for i in range(len(x)):
        tick = time.perf_counter()
        digits.append(int(predict(x[i : i + 1]).argmax()))
        seconds.append(time.perf_counter() - tick)
    table = atomic_write_csv(ctx.stage_dir / "predictions.csv", ["image", "digit"], zip(names, digits, strict=True))
    scores = {} if y is None else {"top1_accuracy": round(float((np.array(digits) == y).mean()), 4)}
    return InferResult(
        backend=ctx.config.backend,
        backend_details=predict.details,
        model=ctx.rel(model),
        source=source,
        samples=len(x),
        skipped=skipped,
        labelled=0 if y is None else len(y),
        scores=scores,
        seconds_per_sample=round(float(np.median(seconds)), 6),
        predictions=ctx.rel(ctx.output(table)),
    )
