# SPDX-License-Identifier: Apache-2.0
"""Data-parallel stages on MindSpore's own launcher, msrun: one host or several.

The runner writes a job file; ``msrun`` starts the workers (``zoo_core/worker.py``), each runs the stage function
with its rank; rank 0 writes the stage's results for the runner, which writes the one run record. A worker that
fails, or is killed, leaves a marker file, and the launcher stops the whole job at once with that worker's last
log lines. msrun and the workers die with the ``zoo`` process that started them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError, ZooError
from ..interrupts import child_setup

WORKER = Path(__file__).parents[1] / "worker.py"  # the entry point msrun starts (zoo_core/worker.py)


@dataclass(frozen=True)
class Cluster:
    workers: int = 1  # processes on this host
    nodes: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int | None = None

    @property
    def world_size(self) -> int:
        return self.workers * self.nodes

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def validate(self) -> None:
        if self.workers < 1 or self.nodes < 1:
            raise UsageError("--workers and --nodes must be at least 1")
        if not 0 <= self.node_rank < self.nodes:
            raise UsageError(f"--node-rank {self.node_rank} must be between 0 and {self.nodes - 1}")
        if self.nodes > 1 and self.master_port is None:
            raise UsageError("several hosts need the same --master-port (and --master-addr) on each")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_port(addr: str, port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((addr, port))  # the scheduler listens on the master address only
        except OSError as exc:
            raise ZooError(
                f"master port {port} on {addr} is in use ({exc.strerror}); choose another with --master-port"
            ) from None


def msrun_command(cluster: Cluster, port: int, log_dir: Path, job: Path) -> list[str]:
    return [
        "msrun",
        f"--worker_num={cluster.world_size}",
        f"--local_worker_num={cluster.workers}",
        f"--master_addr={cluster.master_addr}",
        f"--master_port={port}",
        f"--node_rank={cluster.node_rank}",
        f"--log_dir={log_dir}",
        "--join=True",
        str(WORKER),
        str(job),
    ]


def _tail(path: Path, lines: int = 8) -> str:
    if not path.is_file():
        return f"(no log at {path})"
    text = [
        row
        for row in path.read_text(encoding="utf-8", errors="replace").splitlines()
        if row.strip() and not row.startswith("[INFO]")
    ]
    return "\n".join(text[-lines:]) or f"(nothing in {path})"


class _Follower:
    """Passes new lines of rank 0's log (without MindSpore's own [INFO]/[WARNING] lines) to ``on_line``."""

    NOISE = re.compile(r"^\[(INFO|WARNING|ERROR|DEBUG)\] ")

    def __init__(self, path: Path, on_line: Callable[[str], None]) -> None:
        self.path, self.on_line, self.offset = path, on_line, 0

    def poll(self) -> None:
        if not self.path.is_file():
            return
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        complete = chunk.rsplit("\n", 1)[0] + "\n" if "\n" in chunk else ""
        self.offset += len(complete.encode("utf-8"))
        for line in complete.splitlines():
            if line.strip() and not self.NOISE.match(line):
                self.on_line(line)


def launch_folder(folder: Path, cluster: Cluster) -> Path:
    """This host's part of a job's folder: the folder itself on one host, ``node-R/`` of it on several (the work
    directory is shared storage then, and each host keeps its own job file, logs and worker list)."""
    return folder if cluster.nodes == 1 else folder / f"node-{cluster.node_rank}"


def _stop(process: subprocess.Popen, pids: Path) -> None:
    """Stop msrun and every worker (each is its own process group) with SIGTERM; SIGKILL what is left after 10 s."""
    groups = [process.pid] + [int(text) for p in sorted(pids.glob("rank-*")) if (text := p.read_text().strip())]
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        for group in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)
        if not any(_alive(group) for group in groups):
            return


def _alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _failure(folder: Path, cluster: Cluster) -> ZooError:
    marker = min((folder / "failed").glob("rank-*"), key=lambda p: p.stat().st_mtime)  # the first to fail
    rank = marker.name.split("-", 1)[1]
    log = next(folder.glob(f"**/logs/worker_{rank}.log"), folder / "logs" / f"worker_{rank}.log")
    return ZooError(
        f"worker {rank} of {cluster.world_size} failed: {marker.read_text().strip()}; its last log lines:\n{_tail(log)}"
    )


def launch(
    job: dict[str, Any],
    cluster: Cluster,
    folder: Path,
    on_line: Callable[[str], None] = lambda line: None,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Run ``job`` on ``cluster`` through msrun; returns rank 0's results (empty on a node without rank 0).

    A worker that raises, or dies from a signal (its supervisor in ``worker.py`` reports that), leaves a marker in
    ``folder/failed``: every host stops its workers within a second and reports the rank and how it ended.
    """
    cluster.validate()
    if shutil.which("msrun") is None:
        raise ZooError("msrun (MindSpore's launcher) is not on PATH: install mindspore, or run without --workers")
    port = cluster.master_port or free_port()
    if cluster.node_rank == 0:
        check_port(cluster.master_addr, port)
        shutil.rmtree(folder / "failed", ignore_errors=True)
    here = launch_folder(folder, cluster)
    shutil.rmtree(here, ignore_errors=True)
    here.mkdir(parents=True)
    markers = folder / "failed"
    job = dict(
        job,
        result=str(here / "result.json"),
        markers=str(markers),
        pids=str(here / "pids"),
        checkpoint=str(here / "checkpoint.json"),
    )
    job_file = here / "job.json"
    job_file.write_text(json.dumps(job, indent=2, default=str))
    log_dir = here / "logs"
    command = msrun_command(cluster, port, log_dir, job_file)
    (here / "command.txt").write_text(" ".join(command) + "\n")
    start = time.monotonic()
    follow = _Follower(log_dir / f"worker_{cluster.node_rank * cluster.workers}.log", on_line)
    with open(here / "msrun.out", "w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=child_setup
        )
        try:
            while process.poll() is None:
                follow.poll()
                if any(markers.glob("rank-*")) or (timeout_s is not None and time.monotonic() - start > timeout_s):
                    break
                time.sleep(0.3)
        finally:  # also on Ctrl-C: no worker outlives the run
            _stop(process, here / "pids")
    follow.poll()
    if any(markers.glob("rank-*")):
        raise _failure(folder, cluster)
    if process.returncode != 0:
        logs = sorted(log_dir.glob("worker_*.log"))
        tails = "\n".join(f"--- {p.name}\n{_tail(p, 5)}" for p in logs) or _tail(here / "msrun.out")
        raise ZooError(f"the distributed job exited with {process.returncode} (logs in {log_dir}):\n{tails}")
    result = here / "result.json"
    return json.loads(result.read_text()) if result.is_file() else {}


def job_for(cluster: Cluster, **fields: Any) -> dict[str, Any]:
    return dict(fields, cluster=asdict(cluster))
