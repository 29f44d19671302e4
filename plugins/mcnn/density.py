# SPDX-License-Identifier: Apache-2.0
"""Ground-truth density maps from head positions: each head adds a Gaussian that sums to 1 inside the image.

Two kernels (notes/mcnn_reference.md): ``fixed`` — the 15x15, sigma-4 Gaussian of both reference implementations
(the default) — and ``adaptive`` — the paper's geometry-adaptive kernel, sigma = 0.3 x mean distance to the 3
nearest heads. Kernels are cropped at the image border and re-normalised, so the map sums to the head count.

Fast paths: the fixed kernel is one separable filter over an image of per-head weights (each weight is 1 / the
kernel mass inside the image, computed from cumulative sums); the adaptive kernel adds a small local window per
head. :func:`density_naive` (one full-image filter per head) is kept only to check them.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from scipy.spatial import cKDTree

FIXED_SIZE = 15
FIXED_SIGMA = 4.0
ADAPTIVE_BETA = 0.3
ADAPTIVE_NEIGHBOURS = 3


def gaussian_1d(size: int, sigma: float) -> np.ndarray:
    """A normalised 1-D Gaussian of odd length ``size`` (its outer product is MATLAB's fspecial('gaussian'))."""
    radius = size // 2
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return kernel / kernel.sum()


def head_pixels(points: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns (0-based) of heads given as 1-based [x, y] pixel positions, clamped into the image."""
    height, width = shape
    cols = np.clip(np.floor(points[:, 0]).astype(np.int64), 1, width) - 1
    rows = np.clip(np.floor(points[:, 1]).astype(np.int64), 1, height) - 1
    return rows, cols


def _inside_mass(centres: np.ndarray, length: int, kernel: np.ndarray) -> np.ndarray:
    """For kernels centred at ``centres`` on an axis of ``length`` pixels: the part of each kernel inside."""
    radius = len(kernel) // 2
    cumulative = np.concatenate([[0.0], np.cumsum(kernel)])
    lo = np.maximum(0, radius - centres)
    hi = np.minimum(len(kernel), radius + (length - centres))
    return cumulative[hi] - cumulative[lo]


def density_fixed(
    points: np.ndarray, shape: tuple[int, int], size: int = FIXED_SIZE, sigma: float = FIXED_SIGMA
) -> np.ndarray:
    """Density map with one fixed Gaussian per head, each head summing to 1 inside the image."""
    density = np.zeros(shape, dtype=np.float64)
    if len(points) == 0:
        return density.astype(np.float32)
    kernel = gaussian_1d(size, sigma)
    rows, cols = head_pixels(points, shape)
    weights = 1.0 / (_inside_mass(rows, shape[0], kernel) * _inside_mass(cols, shape[1], kernel))
    np.add.at(density, (rows, cols), weights)
    filtered = cv2.sepFilter2D(density, cv2.CV_64F, kernel, kernel, borderType=cv2.BORDER_CONSTANT)
    return filtered.astype(np.float32)


def adaptive_sigmas(
    points: np.ndarray, beta: float = ADAPTIVE_BETA, k: int = ADAPTIVE_NEIGHBOURS, fallback: float = FIXED_SIGMA
) -> np.ndarray:
    """sigma_i = beta x mean distance to the k nearest other heads (fewer if fewer exist; ``fallback`` if alone)."""
    count = len(points)
    if count < 2:
        return np.full(count, fallback)
    neighbours = min(k, count - 1)
    distances, _ = cKDTree(points).query(points, k=neighbours + 1)
    sigmas = beta * distances[:, 1:].mean(axis=1)
    return np.where(sigmas > 0, sigmas, fallback)


def density_adaptive(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Density map with the paper's geometry-adaptive kernels (window radius 3 sigma), each head summing to 1."""
    height, width = shape
    density = np.zeros(shape, dtype=np.float64)
    rows, cols = head_pixels(points, shape)
    for row, col, sigma in zip(rows, cols, adaptive_sigmas(points), strict=True):
        radius = max(1, math.ceil(3 * sigma))
        top, bottom = max(0, row - radius), min(height, row + radius + 1)
        left, right = max(0, col - radius), min(width, col + radius + 1)
        gy = np.exp(-((np.arange(top, bottom) - row) ** 2) / (2 * sigma * sigma))
        gx = np.exp(-((np.arange(left, right) - col) ** 2) / (2 * sigma * sigma))
        density[top:bottom, left:right] += np.outer(gy / gy.sum(), gx / gx.sum())
    return density.astype(np.float32)


def density_map(points: np.ndarray, shape: tuple[int, int], kernel: str = "fixed") -> np.ndarray:
    if kernel == "fixed":
        return density_fixed(points, shape)
    if kernel == "adaptive":
        return density_adaptive(points, shape)
    raise ValueError(f"unknown kernel {kernel!r}: use 'fixed' or 'adaptive'")


def density_naive(points: np.ndarray, shape: tuple[int, int], kernel: str = "fixed") -> np.ndarray:
    """The slow, obvious way (one full-image filter per head, then re-normalise): for tests and benchmarks."""
    density = np.zeros(shape, dtype=np.float64)
    rows, cols = head_pixels(points, shape)
    sigmas = adaptive_sigmas(points) if kernel == "adaptive" else np.full(len(points), FIXED_SIGMA)
    for row, col, sigma in zip(rows, cols, sigmas, strict=True):
        size = FIXED_SIZE if kernel == "fixed" else 2 * max(1, math.ceil(3 * sigma)) + 1
        g = gaussian_1d(size, sigma)
        impulse = np.zeros(shape, dtype=np.float64)
        impulse[row, col] = 1.0
        one = cv2.filter2D(impulse, cv2.CV_64F, np.outer(g, g), borderType=cv2.BORDER_CONSTANT)
        density += one / one.sum()
    return density.astype(np.float32)


def downsample(density: np.ndarray, factor: int = 4) -> np.ndarray:
    """Sum-pool by ``factor`` (height and width must be multiples of it): the count is preserved exactly."""
    height, width = density.shape
    if height % factor or width % factor:
        raise ValueError(f"density {height}x{width} is not a multiple of {factor}")
    pooled = density.astype(np.float64).reshape(height // factor, factor, width // factor, factor).sum(axis=(1, 3))
    return pooled.astype(np.float32)


def resize_density(density: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a density map to ``shape`` (height, width), rescaled so its sum (the count) is unchanged."""
    if density.shape == shape:
        return density.astype(np.float32)
    total = float(density.sum())
    resized = cv2.resize(density.astype(np.float64), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    current = float(resized.sum())
    if current > 0:
        resized = resized * (total / current)
    return resized.astype(np.float32)
