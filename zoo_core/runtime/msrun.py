# SPDX-License-Identifier: Apache-2.0
"""Data-parallel stages on MindSpore's own launcher, msrun: one host or several.

The runner writes a job file; ``msrun`` starts the workers (``runtime/worker.py``), each runs the stage function
with its rank; rank 0 writes the stage's results for the runner, which writes the one run record. A worker that
fails writes a marker file, and the launcher stops the whole job at once with that worker's last log lines.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import UsageError, ZooError

WORKER = Path(__file__).with_name("worker.py")


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
            sock.bind(("" if addr in ("127.0.0.1", "localhost") else addr, port))
        except OSError as exc:
            raise ZooError(f"master port {port} on {addr} is in use ({exc.strerror}); choose another with "
                           f"--master-port") from None


def msrun_command(cluster: Cluster, port: int, log_dir: Path, job: Path) -> list[str]:
    return ["msrun", f"--worker_num={cluster.world_size}", f"--local_worker_num={cluster.workers}",
            f"--master_addr={cluster.master_addr}", f"--master_port={port}", f"--node_rank={cluster.node_rank}",
            f"--log_dir={log_dir}", "--join=True", str(WORKER), str(job)]


def _tail(path: Path, lines: int = 8) -> str:
    if not path.is_file():
        return "(no log)"
    text = [l for l in path.read_text(encoding="utf-8", errors="replace").splitlines()
            if l.strip() and not l.startswith("[INFO]")]
    return "\n".join(text[-lines:])


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


def launch(job: dict[str, Any], cluster: Cluster, folder: Path, on_line: Callable[[str], None] = lambda line: None,
           timeout_s: float | None = None) -> dict[str, Any]:
    """Run ``job`` on ``cluster`` through msrun; returns rank 0's results (empty on a node without rank 0)."""
    cluster.validate()
    if shutil.which("msrun") is None:
        raise ZooError("msrun (MindSpore's launcher) is not on PATH: install mindspore, or run without --workers")
    port = cluster.master_port or free_port()
    if cluster.node_rank == 0:
        check_port(cluster.master_addr, port)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    job = dict(job, result=str(folder / "result.json"), markers=str(folder / "failed"))
    job_file = folder / "job.json"
    job_file.write_text(json.dumps(job, indent=2, default=str))
    log_dir = folder / "logs"
    command = msrun_command(cluster, port, log_dir, job_file)
    (folder / "command.txt").write_text(" ".join(command) + "\n")
    start = time.monotonic()
    failed: list[Path] = []
    follow = _Follower(log_dir / "worker_0.log", on_line)
    with open(folder / "msrun.out", "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        while process.poll() is None:
            follow.poll()
            failed = sorted((folder / "failed").glob("rank-*")) if (folder / "failed").is_dir() else []
            if failed or (timeout_s is not None and time.monotonic() - start > timeout_s):
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
                break
            time.sleep(0.3)
    follow.poll()
    if failed:
        rank = int(failed[0].name.split("-")[1])
        raise ZooError(f"worker {rank} of {cluster.world_size} failed: {failed[0].read_text().strip()}; its last "
                       f"log lines:\n{_tail(log_dir / f'worker_{rank}.log')}")
    if process.returncode != 0:
        logs = sorted(log_dir.glob("worker_*.log"))
        tails = "\n".join(f"--- {p.name}\n{_tail(p, 5)}" for p in logs) or _tail(folder / "msrun.out")
        raise ZooError(f"the distributed job exited with {process.returncode} (logs in {log_dir}):\n{tails}")
    result = folder / "result.json"
    return json.loads(result.read_text()) if result.is_file() else {}


def job_for(cluster: Cluster, **fields: Any) -> dict[str, Any]:
    return dict(fields, cluster=asdict(cluster))
