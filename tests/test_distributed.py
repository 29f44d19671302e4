# SPDX-License-Identifier: Apache-2.0
"""Data-parallel training on msrun, worker failures, ports, multi-host flags, mixed precision."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import copy_workdir, start_zoo, wait_for
from tests.test_plugins import install_fake_distribution
from zoo_core import load_mindspore
from zoo_core.errors import UsageError
from zoo_core.records import RecordStore
from zoo_core.runtime.msrun import Cluster, free_port, msrun_command

ms = load_mindspore()
REPO = Path(__file__).parents[1]


def weights(path: Path) -> dict[str, np.ndarray]:
    return {k: v.asnumpy() for k, v in ms.load_checkpoint(str(path)).items() if k.startswith(("branch", "fuse"))}


def test_two_workers_train_like_one_with_the_same_global_batch(tmp_path, cli):
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli("run", "mcnn", "--stage", "train", "--preset", "smoke", "--workdir", str(one))[0] == 0
    code, out, err = cli(
        "run", "mcnn", "--stage", "train", "--preset", "smoke", "--workers", "2", "--workdir", str(two)
    )
    assert code == 0, err
    assert "launching 2 data-parallel workers with msrun" in out and "Train epoch: [2/2]" in out
    record = RecordStore(two).latest("train")
    assert record.metrics["workers"] == 2 and len(record.metrics["worker_logs"]) == 2
    assert all((two / log).is_file() for log in record.metrics["worker_logs"])
    digests = {p.read_text() for p in (two / "train" / "ranks").glob("rank-*.sha256")}
    assert len(list((two / "train" / "ranks").glob("rank-*.sha256"))) == 2 and len(digests) == 1
    a, b = (weights(workdir / "train" / "checkpoints" / "mcnn-2.ckpt") for workdir in (one, two))
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_a_dying_worker_fails_the_run_promptly_with_its_log(tmp_path, monkeypatch, cli):
    install_fake_distribution(
        tmp_path,
        "zoo-flaky",
        {"flaky": "zoo_flaky_plugin"},
        {
            "zoo_flaky_plugin": """
        import time
        from zoo_core import hookimpl
        from tests.test_plugins import spec_named

        def train(ctx):
            if ctx.rank == 1:
                print("rank 1 is about to fail", flush=True)
                raise RuntimeError("rank 1 lost its data")
            time.sleep(120)

        @hookimpl
        def zoo_register_models(register):
            spec = spec_named("flaky")
            register(type(spec)(**{**spec.__dict__, "stages": {"train": train}, "distributed": ("train",)}))
    """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), str(REPO), os.environ.get("PYTHONPATH", "")]))
    start = time.monotonic()
    code, _, err = cli("run", "flaky", "--stage", "train", "--workers", "2", "--workdir", str(tmp_path / "w"))
    assert code == 1 and time.monotonic() - start < 60
    assert "worker 1 of 2 failed: RuntimeError: rank 1 lost its data" in err and "rank 1 is about to fail" in err
    assert RecordStore(tmp_path / "w").latest("train", "failed") is not None


def test_a_busy_master_port_is_a_clear_error(tmp_path, cli):
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = cli(
            "run",
            "mcnn",
            "--stage",
            "train",
            "--preset",
            "smoke",
            "--workers",
            "2",
            "--master-port",
            str(port),
            "--workdir",
            str(tmp_path / "w"),
        )
    assert code == 1 and f"master port {port} on 127.0.0.1 is in use" in err and "--master-port" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--stage", "dataset", "--workers", "2"], "none of the stages dataset runs distributed"),
        (["--stage", "train", "--nodes", "2"], "several hosts need the same --master-port"),
        (["--stage", "train", "--nodes", "2", "--node-rank", "2", "--master-port", "9000"], "--node-rank 2 must be"),
        (["--stage", "train", "--workers", "0"], "--workers and --nodes must be at least 1"),
    ],
)
def test_bad_cluster_options(tmp_path, cli, args, message):
    code, _, err = cli("run", "mcnn", *args, "--workdir", str(tmp_path / "w"))
    assert code == 2 and message in err


def test_multi_host_flags_map_to_msrun():
    command = msrun_command(
        Cluster(workers=2, nodes=3, node_rank=1, master_addr="node0.example", master_port=9000),
        9000,
        Path("logs"),
        Path("job.json"),
    )
    assert command[:7] == [
        "msrun",
        "--worker_num=6",
        "--local_worker_num=2",
        "--master_addr=node0.example",
        "--master_port=9000",
        "--node_rank=1",
        "--log_dir=logs",
    ]
    with pytest.raises(UsageError):
        Cluster(workers=2, nodes=2, node_rank=0).validate()


def test_mixed_precision_o2_computes_in_fp16_and_trains(tmp_path, cli):
    """amp_level=O2 reaches MindSpore's Model: the same seed and data give other (fp16-rounded) losses than O0,
    the run still trains and evaluates, and the record says the precision was mixed."""
    runs = {}
    for level in ("O0", "O2"):
        work = tmp_path / level
        code, _, err = cli(
            "run", "mcnn", "--stage", "train,eval", "--preset", "smoke", "--set", f"amp_level={level}",
            "--workdir", str(work),
        )  # fmt: skip
        assert code == 0, err
        runs[level] = RecordStore(work).latest("train")
        assert RecordStore(work).latest("eval").result.scores["mae"] >= 0
    o0, o2 = runs["O0"].result, runs["O2"].result
    assert runs["O2"].metrics["amp_level"] == "O2" and o2.precision == "Mixed" and o0.precision == "FP32"
    assert np.isfinite(o2.final_loss) and o2.history[0].loss != o0.history[0].loss
    assert abs(o2.history[0].loss - o0.history[0].loss) < 0.05 * abs(o0.history[0].loss)
    code, _, err = cli("run", "mcnn", "--stage", "train", "--set", "amp_level=O4", "--workdir", str(tmp_path / "w"))
    assert code == 2 and "amp_level='O4'" in err


def _worker_groups(workdir: Path) -> list[int]:
    """The process group of every worker (its supervisor's pid) of the last distributed train run."""
    return [int(p.read_text()) for p in sorted((workdir / "train" / "distributed").glob("**/pids/rank-*"))]


def _alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _child_of(pid: int) -> int:
    return int((Path(f"/proc/{pid}/task/{pid}/children").read_text().split() or ["0"])[0])


def _start_long_training(workdir: Path, log: Path):
    """`zoo run mcnn --stage train` on 2 workers for far more epochs than a test waits for."""
    return start_zoo(
        "run", "mcnn", "--stage", "train", "--preset", "smoke", "--set", "epochs=400", "--workers", "2",
        "--workdir", str(workdir), log=log,
    )  # fmt: skip


def test_a_worker_killed_by_a_signal_is_reported_at_once_with_its_rank(copy, tmp_path):
    """Without zoo's supervisor msrun notices a SIGKILLed worker only when its scheduler times out (~40 s);
    the report names the rank and the signal, and no process of the job is left."""
    log = tmp_path / "train.log"
    train = _start_long_training(copy, log)
    wait_for(lambda: "Train epoch: [3/400]" in log.read_text(), process=train)
    groups = _worker_groups(copy)
    assert len(groups) == 2
    killed = time.monotonic()
    os.kill(_child_of(groups[1]), signal.SIGKILL)
    assert train.wait(timeout=60) == 1
    assert time.monotonic() - killed < 20
    err = (tmp_path / "train.log.err").read_text()
    assert "worker 1 of 2 failed: killed by SIGKILL (signal 9) (out of memory, or killed from outside)" in err
    assert RecordStore(copy).latest("train", "failed") is not None
    wait_for(lambda: not any(_alive(g) for g in groups), timeout=15)


def test_ctrl_c_stops_every_worker_and_records_the_interruption(copy, tmp_path):
    log = tmp_path / "train.log"
    train = _start_long_training(copy, log)
    wait_for(lambda: "Test epoch: 3," in log.read_text(), process=train)
    groups = _worker_groups(copy)
    train.send_signal(signal.SIGINT)
    assert train.wait(timeout=60) == 130
    err = (tmp_path / "train.log.err").read_text()
    assert "train interrupted by SIGINT; the last complete checkpoint, train/checkpoints/mcnn-" in err
    assert "continue with `zoo run mcnn --stage train --resume`" in err
    wait_for(lambda: not any(_alive(g) for g in groups), timeout=15)
    assert RecordStore(copy).latest("train", "interrupted") is not None


class Host0Address:
    """Host 0 as node 1 sees it: 127.0.0.2, forwarded to the scheduler on 127.0.0.1. msrun starts a scheduler on
    every node whose --master-addr is one of its own addresses; 127.0.0.2 is not, so node 1 starts none, as on a
    second machine. Listens on loopback only and stops with the test."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.server = socket.create_server(("127.0.0.2", port))
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:  # closed
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.port))
            except OSError:  # the scheduler is not up yet: the worker retries
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.server.close()


def test_two_nodes_on_one_machine_train_like_one_process(delivered, tmp_path, cli):
    """Node ranks 0 and 1 as separate `zoo run` processes, one worker each, sharing the work directory as hosts
    share storage: both ranks end with equal weights, those of the one-process run with the same global batch."""
    one = copy_workdir(delivered, tmp_path / "one")
    assert cli("run", "mcnn", "--stage", "train", "--preset", "smoke", "--workdir", str(one))[0] == 0
    two = copy_workdir(delivered, tmp_path / "two")
    port = free_port()
    host0 = Host0Address(port)
    try:
        nodes = [
            start_zoo(
                "run",
                "mcnn",
                "--stage",
                "train",
                "--preset",
                "smoke",
                "--workers",
                "1",
                "--nodes",
                "2",
                "--node-rank",
                str(rank),
                "--master-addr",
                address,
                "--master-port",
                str(port),
                "--workdir",
                str(two),
                log=tmp_path / f"node{rank}.log",
            )
            for rank, address in ((0, "127.0.0.1"), (1, "127.0.0.2"))
        ]
        for rank, node in enumerate(nodes):
            assert node.wait(timeout=300) == 0, (tmp_path / f"node{rank}.log.err").read_text()
    finally:
        host0.close()
    assert "rank 0 (node 0) writes the outputs" in (tmp_path / "node1.log").read_text()
    digests = {p.name: p.read_text() for p in (two / "train" / "ranks").glob("rank-*.sha256")}
    assert set(digests) == {"rank-0.sha256", "rank-1.sha256"} and len(set(digests.values())) == 1
    record = RecordStore(two).latest("train")
    assert record.metrics["workers"] == 2 and record.pid == nodes[0].pid
    a, b = (weights(workdir / "train" / "checkpoints" / "mcnn-2.ckpt") for workdir in (one, two))
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-6, err_msg=name)
