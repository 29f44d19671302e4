# SPDX-License-Identifier: Apache-2.0
"""The data set the example makes: printed digits in random OpenCV fonts, sizes, positions and strokes."""

from __future__ import annotations

import cv2
import numpy as np

SIDE = 28
FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_PLAIN,
)


def glyph(digit: int, rng: np.random.Generator) -> np.ndarray:
    """One 28x28 uint8 image of ``digit``, white on black."""
    canvas = np.zeros((SIDE, SIDE), np.uint8)
    font = FONTS[int(rng.integers(len(FONTS)))]
    scale = rng.uniform(0.7, 1.0) * (1.6 if font == cv2.FONT_HERSHEY_PLAIN else 0.9)
    thickness = int(rng.integers(1, 3))
    (w, h), _ = cv2.getTextSize(str(digit), font, scale, thickness)
    x = int(rng.integers(0, max(1, SIDE - w))) if SIDE > w else 0
    y = int(rng.integers(h, SIDE)) if SIDE > h else SIDE - 1
    cv2.putText(canvas, str(digit), (x, y), font, scale, (255,), thickness, cv2.LINE_AA)
    noisy = canvas.astype(np.float32) + rng.normal(0, 20, canvas.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def make(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count).astype(np.int32)
    return np.stack([glyph(int(d), rng) for d in labels]), labels
