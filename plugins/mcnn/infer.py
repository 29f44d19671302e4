# SPDX-License-Identifier: Apache-2.0
"""The infer stage: run an exported MCNN on every image of a folder, with counts, heat maps and, with labels,
the same MAE/MSE as eval.

Images run at their own size (resized to multiples of 4, as eval does) through the dynamic-shape export, so
infer and eval agree to float rounding (|difference of MAE| < 1e-3 on the test split). ``--data`` is a folder of
images, or a split folder holding ``images/`` and ``ground_truth/`` (.mat) or ``ground_truth_csv/``; with no
``--data``, the test split of the data the dataset stage read. Unreadable files are skipped with a warning and
counted. Writes ``predictions.csv`` (a row per image file, by its name) and ``overlays/<image file name>.png``
into ``<workdir>/infer/`` for the test split, or into the run's own folder for data the user brought.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from zoo_core import InferResult, StageContext, ZooError, atomic_dir, atomic_write_csv, inference_model, progress

from .loaders import IMAGE_SUFFIXES, Split, file_order, find_splits, label_path, labelled, load_sample, read_image
from .scores import count_errors


def find_images(data: Path) -> tuple[list[Path], Split | None]:
    """Every file of the images folder (non-images are skipped later, with a warning) and its labels, if any."""
    folder = data if (data / "images").is_dir() else (data.parent if data.name == "images" else None)
    images_dir = data / "images" if (data / "images").is_dir() else data
    if not images_dir.is_dir():
        raise ZooError(f"--data {data}: folder not found; give a folder of images or a split folder with images/")
    files = sorted((p for p in images_dir.iterdir() if p.is_file() and not p.name.startswith(".")), key=file_order)
    if not files:
        raise ZooError(f"--data {images_dir}: no files to run inference on")
    return files, labelled(files, folder) if folder is not None else None


def _source(ctx: StageContext) -> Path:
    if ctx.data is not None:
        return ctx.data
    dataset = ctx.latest("dataset")
    test = find_splits(Path(dataset.data)).get("test") if dataset.data else None
    if test is None:
        raise ZooError("no --data and the dataset stage's data has no test split: give --data IMAGES_DIR")
    return ctx.input(test.images[0].parent.parent)


def overlay(image: np.ndarray, density: np.ndarray) -> np.ndarray:
    """The density map as a JET heat map over the grayscale image."""
    heat = cv2.resize(density, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    heat = cv2.applyColorMap((255 * heat / max(float(heat.max()), 1e-12)).astype(np.uint8), cv2.COLORMAP_JET)
    return cv2.addWeighted(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), 0.5, heat, 0.5, 0)


def _load(path: Path, split: Split | None, kernel: str, ctx: StageContext) -> tuple[np.ndarray, float | None]:
    if split is not None and path.suffix.lower() in IMAGE_SUFFIXES:
        try:
            label_path(path, split)
        except ZooError as exc:
            ctx.warn(str(exc))
        else:
            sample = load_sample(path, split, kernel)
            return sample.image, sample.count
    image = read_image(path)
    h4, w4 = image.shape[0] // 4 * 4, image.shape[1] // 4 * 4
    if (h4, w4) != image.shape:
        image = cv2.resize(image, (w4, h4), interpolation=cv2.INTER_AREA)
    return image, None


Row = tuple[str, float, "float | None"]  # image file name, predicted count, ground-truth count


def _predict_all(ctx: StageContext, model: Path, predict, files: list[Path], split: Split | None):
    """Counts (and overlays, when configured) of every readable file; returns rows, skipped names, seconds."""
    cfg = ctx.config
    rows: list[Row] = []
    skipped: list[str] = []
    seconds: list[float] = []
    with atomic_dir(ctx.stage_dir / "overlays") as overlays:
        for path in progress(files, len(files), f"infer ({cfg.backend})"):
            try:
                image, truth = _load(path, split, cfg.kernel, ctx)
            except ZooError as exc:
                skipped.append(path.name)
                ctx.warn(f"skipped {exc}")
                continue
            tick = time.perf_counter()
            density = predict(image[None, None].astype(np.float32))[0, 0]
            seconds.append(time.perf_counter() - tick)
            count = float(density.astype(np.float64).sum())
            if not np.isfinite(count):
                raise ZooError(
                    f"{path.name}: {model} gives a non-finite count ({count}): the model file is damaged; "
                    f"nothing was written"
                )
            rows.append((path.name, count, truth))
            if cfg.overlays and not cv2.imwrite(str(overlays / f"{path.name}.png"), overlay(image, density)):
                raise ZooError(
                    f"could not write the overlay of {path.name} to {ctx.stage_dir / 'overlays'} "
                    f"(disk full or not writable?)"
                )
    return rows, skipped, seconds


def _table(ctx: StageContext, rows: list[Row]) -> Path:
    def cell(value: float | None) -> str:
        return "" if value is None else f"{value:.3f}"

    return ctx.output(
        atomic_write_csv(
            ctx.stage_dir / "predictions.csv",
            ["image", "predicted_count", "gt_count", "error"],
            [[name, cell(p), cell(t), cell(None if t is None else p - t)] for name, p, t in rows],
        )
    )


def run(ctx: StageContext) -> InferResult:
    cfg = ctx.config
    model, predict = inference_model(ctx)
    source = _source(ctx)
    files, split = find_images(source)
    rows, skipped, seconds = _predict_all(ctx, model, predict, files, split)
    if not rows:
        raise ZooError(f"{source}: none of the {len(files)} files could be read as an image")
    table = _table(ctx, rows)
    if cfg.overlays:
        ctx.output(ctx.stage_dir / "overlays")
    labelled = [(p, t) for _, p, t in rows if t is not None]
    scores: dict[str, float] = {}
    message = f"inferred {len(rows)} images from {source} with {cfg.backend} ({model.name})"
    if labelled:
        mae, mse = count_errors(np.array([p for p, _ in labelled]), np.array([t for _, t in labelled]))
        scores = {"mae": round(mae, 4), "mse": round(mse, 4)}
        message += f": MAE {mae:.3f}, MSE {mse:.3f} on {len(labelled)} labelled images"
    ctx.log.info(message + (f"; skipped {len(skipped)} unreadable file(s)" if skipped else ""))
    return InferResult(
        backend=cfg.backend,
        backend_details=predict.details,
        model=ctx.rel(model),
        source=str(source),
        samples=len(rows),
        skipped=skipped,
        labelled=len(labelled),
        scores=scores,
        seconds_per_sample=round(float(np.median(seconds)), 4),
        batch_size=1,
        predictions=ctx.rel(table),
        images=ctx.rel(ctx.stage_dir / "overlays") if cfg.overlays else None,
    )
