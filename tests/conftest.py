# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from zoo_core.cli import main
from zoo_mcnn.synthetic import crowd_image, write_mat


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``zoo ARGS`` in this process; returns (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture
def cli(capsys):
    return lambda *args: run_cli(capsys, *args)


def write_shanghaitech(root: Path, train: int = 3, test: int = 2, size: int = 96, seed: int = 0) -> Path:
    """A tiny ShanghaiTech-layout data set with real .mat ground truth."""
    for split, count in (("train_data", train), ("test_data", test)):
        (root / split / "images").mkdir(parents=True, exist_ok=True)
        (root / split / "ground_truth").mkdir(parents=True, exist_ok=True)
        for i in range(1, count + 1):
            rng = np.random.default_rng([seed, i, len(split)])
            image, heads = crowd_image(rng, size, int(rng.integers(3, 20)))
            cv2.imwrite(str(root / split / "images" / f"IMG_{i}.jpg"), image)
            write_mat(root / split / "ground_truth" / f"GT_IMG_{i}.mat", heads)
    return root


def write_csv_layout(root: Path, count: int = 2, shape: tuple[int, int] = (50, 70)) -> Path:
    """The reference CSV layout: images/*.jpg with ground_truth_csv/*.csv full-resolution density maps."""
    (root / "images").mkdir(parents=True)
    (root / "ground_truth_csv").mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(1, count + 1):
        cv2.imwrite(str(root / "images" / f"IMG_{i}.jpg"), rng.integers(0, 255, shape, dtype=np.uint8))
        density = np.zeros(shape)
        density[10:20, 10:20] = (i * 3.5) / 100
        np.savetxt(root / "ground_truth_csv" / f"IMG_{i}.csv", density, delimiter=",")
    return root


@pytest.fixture
def shanghaitech(tmp_path: Path) -> Path:
    return write_shanghaitech(tmp_path / "part_A_final")


def pytest_configure(config) -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
