# SPDX-License-Identifier: Apache-2.0
"""One writer per work directory: a second writer is refused at once naming the holder, readers never wait, a
killed holder frees it, and the next writer clears what the killed one left half-written."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

from tests.conftest import start_zoo, wait_for
from zoo_core.records import RecordStore


def holder_pid(workdir) -> int | None:
    try:
        return json.loads((workdir / ".zoo.lock").read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return None


def test_second_writer_is_refused_readers_go_on_and_a_killed_holder_frees_it(copy, tmp_path, cli):
    train = start_zoo(
        "run",
        "mcnn",
        "--stage",
        "train",
        "--preset",
        "smoke",
        "--set",
        "epochs=2000",
        "--workdir",
        str(copy),
        log=tmp_path / "train.log",
    )
    try:
        wait_for(lambda: holder_pid(copy) == train.pid, process=train)
        wait_for(lambda: "Test epoch: 1," in (tmp_path / "train.log").read_text(), process=train)
        for writer in (
            ["run", "mcnn", "--stage", "network"],
            ["render-docs", "mcnn"],
            ["package", "mcnn", "--output", str(tmp_path / "bundle")],
        ):
            code, out, err = cli(*writer, "--workdir", str(copy))
            assert code == 1 and len(err.strip().splitlines()) == 1, err
            assert f"is in use by PID {train.pid}" in err
            assert "`zoo run mcnn --stage train --preset smoke --set epochs=2000 --workdir" in err
        assert not (tmp_path / "bundle").exists()
        for reader in (["runs", "mcnn"], ["render-docs", "mcnn", "--check"], ["check", "mcnn"]):
            code, out, err = cli(*reader, "--workdir", str(copy))
            assert "in use" not in out + err and code in (0, 1)
        assert any(r.status == "running" for r in RecordStore(copy).all("train"))
    finally:
        train.send_signal(signal.SIGKILL)
        train.wait()
    code, out, err = cli("run", "mcnn", "--stage", "network", "--workdir", str(copy))
    assert code == 0, err
    assert "marked run " in out and "(train) interrupted: its process ended without a record" in out
    killed = RecordStore(copy).latest("train", "interrupted")
    assert killed is not None and f"PID {train.pid}" in killed.error and killed.ended >= killed.started


KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from zoo_core.io import atomic_dir, atomic_path
    workdir = Path(sys.argv[1])
    with atomic_path(workdir / "eval" / "predictions.csv") as tmp:
        tmp.write_text("half a table")
        with atomic_dir(workdir / "export" / "model") as folder:
            (folder / "mcnn.onnx").write_bytes(b"half a model")
            os.kill(os.getpid(), signal.SIGKILL)
""")


def test_next_writer_removes_what_a_killed_writer_left(copy, cli):
    predictions = (copy / "eval" / "predictions.csv").read_bytes()
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(copy)], check=False)
    leftovers = sorted(p.name for p in copy.rglob(".*zoo-tmp-*"))
    assert len(leftovers) == 2  # a temporary file and a temporary folder
    # killed between the two renames of a folder replacement: the old folder waits under its temporary name
    (copy / "export" / "model").rename(copy / "export" / ".model.zoo-old")
    (copy / "dataset" / "notes.old").write_text("the user's")
    (copy / "dataset" / ".draft.tmp").write_text("the user's too")
    code, out, err = cli("run", "mcnn", "--stage", "network", "--workdir", str(copy))
    assert code == 0, err
    assert not list(copy.rglob("*zoo-tmp*")) and not list(copy.rglob("*zoo-old*"))
    assert f"work directory: restored {copy / 'export' / 'model'}" in out
    assert (copy / "export" / "model" / "mcnn.onnx").stat().st_size > 1000
    assert (copy / "eval" / "predictions.csv").read_bytes() == predictions
    assert (copy / "dataset" / "notes.old").is_file() and (copy / "dataset" / ".draft.tmp").is_file()
