# SPDX-License-Identifier: Apache-2.0
"""Ctrl-C and kill on a real training process: an ``interrupted`` record, the last complete checkpoint kept, one
line saying how to continue, exit 130 (SIGINT) / 143 (SIGTERM); ``--resume`` then finishes the training."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from tests.conftest import start_zoo, wait_for, zoo
from zoo_core.records import RecordStore


def epochs_done(workdir) -> int:
    path = workdir / "train" / "metrics.jsonl"
    lines = path.read_text().splitlines() if path.is_file() else []
    return sum('"type": "epoch"' in line for line in lines)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_training_cleanly_and_resume_finishes_it(copy, tmp_path, signum, code):
    """MindSpore turns a SIGINT that arrives during a graph run into a SIGTERM to its own process; zoo tells them
    apart by the sender, so Ctrl-C is still reported (and exits) as SIGINT."""
    log = tmp_path / "train.log"
    train = start_zoo(
        "run", "mcnn", "--stage", "train", "--preset", "smoke", "--set", "epochs=40", "--workdir", str(copy), log=log
    )
    wait_for(lambda: epochs_done(copy) >= 3, process=train)
    train.send_signal(signum)
    assert train.wait(timeout=60) == code
    err = (tmp_path / "train.log.err").read_text()
    name = signal.Signals(signum).name
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + log.read_text()
    record = RecordStore(copy).latest("train", "interrupted")
    assert record is not None and record.error == f"interrupted by {name}"
    last = max(int(p.stem.split("-")[1]) for p in (copy / "train" / "checkpoints").glob("mcnn-*.ckpt"))
    assert err.strip() == (
        f"zoo: interrupted: train interrupted by {name}; the last complete checkpoint, "
        f"train/checkpoints/mcnn-{last}.ckpt, is kept: continue with "
        f"`zoo run mcnn --stage train --resume`"
    )
    assert log.read_text().count("== mcnn: train (preset smoke) ==") == 1  # output is not written twice
    resumed = zoo(
        "run", "mcnn", "--stage", "train", "--preset", "smoke", "--set", "epochs=40", "--workdir", str(copy), "--resume"
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"(epoch {last}, step" in resumed.stdout
    lines = [json.loads(line) for line in (copy / "train" / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines if line["type"] == "epoch"] == list(range(1, 41))


def test_the_zoo_command_starts_no_thread_before_it_handles_signals():
    """SIGTERM is blocked in every thread and taken by zoo's own thread; a thread started before that (numpy's
    OpenBLAS workers start on import) could take it instead. Importing the CLI must start none."""
    code = (
        "import os, sys\nimport zoo_core.cli\n"
        "heavy = [m for m in ('numpy', 'mindspore', 'cv2', 'onnxruntime') if m in sys.modules]\n"
        "assert not heavy, heavy\nassert len(os.listdir('/proc/self/task')) == 1"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
