# SPDX-License-Identifier: Apache-2.0
"""Crowd-counting scores, shared by eval and infer (no framework imports)."""

from __future__ import annotations

import math

import numpy as np


def count_errors(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(MAE, MSE) of counts, where MSE is the root of the mean squared error, as the literature reports it."""
    diff = np.asarray(predicted, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    return float(np.mean(np.abs(diff))), float(math.sqrt(np.mean(diff * diff)))
