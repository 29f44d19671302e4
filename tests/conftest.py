# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from zoo_core import api
from zoo_core.cli import main
from zoo_mcnn.synthetic import crowd_image, write_mat

#: The ``zoo`` command as a new process (what a user runs; real signals, real exit codes).
ZOO = [sys.executable, "-c", "from zoo_core.cli import main; main()"]


def zoo(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``zoo ARGS`` in a new process and wait for it."""
    return subprocess.run(
        [*ZOO, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600
    )


def start_zoo(*args: str, log: Path) -> subprocess.Popen:
    """Start ``zoo ARGS`` in a new process, its stdout and stderr to ``log`` / ``log.err``."""
    return subprocess.Popen([*ZOO, *args], stdout=open(log, "w"), stderr=open(f"{log}.err", "w"))


def wait_for(condition: Callable[[], object], timeout: float = 120, process: subprocess.Popen | None = None):
    """Poll ``condition`` until it is true (returns its value); fails on timeout or if ``process`` ends first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process ended (exit {process.returncode}) before the awaited moment")
        time.sleep(0.05)
    pytest.fail("timed out waiting")


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


@pytest.fixture(scope="session")
def delivered(tmp_path_factory) -> Path:
    """Every stage of MCNN on the smoke preset and both READMEs: a finished delivery (read-only: use ``copy``)."""
    workdir = tmp_path_factory.mktemp("delivered") / "w"
    api.run("mcnn", "all", preset="smoke", workdir=workdir, quiet=True)
    for lang in ("zh", "en"):
        api.render_docs("mcnn", workdir, lang)
    return workdir


def copy_workdir(source: Path, target: Path) -> Path:
    """A copy of a work directory whose records and READMEs name the copy where they named the original."""
    shutil.copytree(source, target)
    for text in [*(target / "records").glob("*.json"), *(target / "docs").glob("*.md")]:
        text.write_text(text.read_text(encoding="utf-8").replace(str(source), str(target)), encoding="utf-8")
    return target


@pytest.fixture
def copy(delivered, tmp_path) -> Path:
    """A copy of the delivered work directory a test may change or damage."""
    return copy_workdir(delivered, tmp_path / "w")


def pytest_configure(config) -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
