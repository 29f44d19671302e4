# SPDX-License-Identifier: Apache-2.0
"""The built-in data set: synthetic crowds written in the ShanghaiTech layout, so the default path runs the same
loader as users' data. Deterministic from a seed; head-like blobs whose size grows towards the bottom of the
image (perspective) on textured backgrounds; counts log-uniform from a few to several hundred."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from scipy.io import savemat

PART = "part_S_final"  # S for synthetic, beside ShanghaiTech's part_A_final / part_B_final


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    coarse = rng.normal(0.0, 1.0, (max(2, size // 32), max(2, size // 32)))
    texture = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC) * rng.uniform(10, 30)
    gradient = np.linspace(rng.uniform(-30, 30), rng.uniform(-30, 30), size)[:, None]
    grain = rng.normal(0.0, rng.uniform(2, 8), (size, size))
    return rng.uniform(90, 170) + texture + gradient + grain


def crowd_image(rng: np.random.Generator, size: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """One grayscale ``size`` x ``size`` image and its heads as 1-based [x, y] (ShanghaiTech convention)."""
    canvas = _background(rng, size)
    ys = size * (0.08 + 0.92 * rng.random(count) ** 0.7)  # more people far away (top), as in crowd photos
    xs = rng.uniform(0, size, count)
    order = np.argsort(ys)  # far first, so nearer people are drawn over them
    radii = size * (0.012 + 0.03 * ys / size)
    for i in order:
        x, y, r = float(xs[i]), float(ys[i]), float(radii[i])
        body = (int(x), int(y + 2.2 * r))
        cv2.ellipse(
            canvas,
            body,
            (max(1, int(1.8 * r)), max(1, int(1.6 * r))),
            0,
            0,
            360,
            (float(rng.uniform(40, 210)),),
            -1,
            cv2.LINE_AA,
        )
        cv2.circle(canvas, (int(x), int(y)), max(1, int(round(r))), (float(rng.uniform(15, 80)),), -1, cv2.LINE_AA)
        face = (int(x), int(y + 0.35 * r))
        cv2.ellipse(
            canvas,
            face,
            (max(1, int(0.6 * r)), max(1, int(0.5 * r))),
            0,
            0,
            360,
            (float(rng.uniform(120, 200)),),
            -1,
            cv2.LINE_AA,
        )
    canvas = cv2.GaussianBlur(canvas, (3, 3), 0.8) + rng.normal(0.0, 3.0, canvas.shape)
    image = np.clip(canvas, 0, 255).astype(np.uint8)
    heads = np.stack([xs + 1.0, ys + 1.0], axis=1)  # 0-based centre -> 1-based MATLAB pixel position
    return image, heads


def write_mat(path: Path, heads: np.ndarray) -> None:
    """Write ``GT_IMG_i.mat`` as ShanghaiTech does: ``image_info{1,1}.location`` (N x 2) and ``.number``."""
    info = np.empty((1, 1), dtype=[("location", object), ("number", object)])
    info[0, 0]["location"] = heads.astype(np.float64)
    info[0, 0]["number"] = np.array([[float(len(heads))]])
    cell = np.empty((1, 1), dtype=object)
    cell[0, 0] = info
    savemat(str(path), {"image_info": cell})


def generate(root: Path, train: int, test: int, size: int, min_count: int, max_count: int, seed: int) -> Path:
    """Write ``root/part_S_final/{train_data,test_data}/{images,ground_truth}``; returns the part folder."""
    part = Path(root) / PART
    for split, number, offset in (("train_data", train, 0), ("test_data", test, 1_000_000)):
        images, truth = part / split / "images", part / split / "ground_truth"
        images.mkdir(parents=True, exist_ok=True)
        truth.mkdir(parents=True, exist_ok=True)
        for index in range(1, number + 1):
            rng = np.random.default_rng([seed, offset + index])
            count = int(round(np.exp(rng.uniform(np.log(min_count), np.log(max_count)))))
            image, heads = crowd_image(rng, size, count)
            cv2.imwrite(str(images / f"IMG_{index}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
            write_mat(truth / f"GT_IMG_{index}.mat", heads)
    return part
