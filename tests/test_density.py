# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import numpy as np
import pytest

from zoo_mcnn.density import (
    adaptive_sigmas,
    density_map,
    density_naive,
    downsample,
    gaussian_1d,
    head_pixels,
    resize_density,
)


def heads(count: int, shape=(60, 80), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    points = np.c_[rng.uniform(1, shape[1] + 1, count), rng.uniform(1, shape[0] + 1, count)]
    points[:3] = [[1.0, 1.0], [shape[1] + 0.9, shape[0] + 0.9], [2.5, shape[0] / 2]]  # corners and an edge
    return points


@pytest.mark.parametrize("kernel", ["fixed", "adaptive"])
def test_each_head_sums_to_one_inside_the_image(kernel):
    points = heads(50)
    density = density_map(points, (60, 80), kernel)
    assert density.dtype == np.float32 and density.shape == (60, 80)
    assert density.sum() == pytest.approx(50, abs=1e-3)
    assert (density >= 0).all()


@pytest.mark.parametrize("kernel", ["fixed", "adaptive"])
def test_fast_maps_equal_the_per_head_full_image_computation(kernel):
    points = heads(40, seed=3)
    np.testing.assert_allclose(
        density_map(points, (60, 80), kernel), density_naive(points, (60, 80), kernel), atol=1e-6
    )


def test_fixed_kernel_is_the_15x15_sigma4_gaussian_away_from_borders():
    density = density_map(np.array([[41.0, 31.0]]), (60, 80), "fixed")
    g = gaussian_1d(15, 4.0)
    np.testing.assert_allclose(density[23:38, 33:48], np.outer(g, g), atol=1e-7)
    assert density[30, 40] == density.max()


def test_heads_use_matlab_one_based_pixels():
    rows, cols = head_pixels(np.array([[1.0, 1.0], [80.7, 60.2], [0.3, 70.0]]), (60, 80))
    assert rows.tolist() == [0, 59, 59] and cols.tolist() == [0, 79, 0]


def test_adaptive_sigma_is_03_of_mean_distance_to_three_nearest():
    points = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0], [10.0, 10.0]])
    sigma = adaptive_sigmas(points)[0]
    assert sigma == pytest.approx(0.3 * np.mean([3.0, 4.0, np.hypot(10, 10)]))
    assert adaptive_sigmas(np.array([[5.0, 5.0]]))[0] == 4.0  # a lone head falls back to the fixed sigma


def test_empty_image_has_zero_density():
    assert density_map(np.zeros((0, 2)), (8, 8)).sum() == 0


def test_downsample_and_resize_keep_the_count():
    density = density_map(heads(30), (60, 80))
    small = downsample(density, 4)
    assert small.shape == (15, 20)
    assert small.sum() == pytest.approx(density.sum(), rel=1e-6)
    assert resize_density(density, (48, 64)).sum() == pytest.approx(density.sum(), rel=1e-5)
    with pytest.raises(ValueError, match="not a multiple of 4"):
        downsample(np.zeros((10, 12)), 4)
