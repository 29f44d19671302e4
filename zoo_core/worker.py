# SPDX-License-Identifier: Apache-2.0
"""One msrun worker: set up MindSpore data parallelism, run the stage function with this rank, and (rank 0)
write the stage's results for the runner. Started by ``zoo_core.runtime.msrun``; not run by hand.

msrun starts this file as a small supervisor that runs the real worker as its child: when the child dies from a
signal (out of memory, kill -9) the supervisor writes the failure marker at once, naming the rank and the signal;
without it msrun would notice only when its scheduler times out (about 40 s). The supervisor forwards SIGINT and
SIGTERM to the child and dies with msrun; the child dies with the supervisor.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import traceback
from pathlib import Path

CHILD = "ZOO_WORKER_CHILD"

# Started as a script, this file's folder is sys.path[0]: zoo_core's own modules (context.py, results.py, ...)
# would then shadow top-level modules of the same name that MindSpore and its dependencies import.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]


def _mark(job: dict, rank: object, message: str) -> None:
    markers = Path(job["markers"])
    markers.mkdir(parents=True, exist_ok=True)
    marker = markers / f"rank-{rank}"
    if not marker.exists():  # the worker's own report (an exception) says more than its exit status
        marker.write_text(message.splitlines()[0][:300] if message else "failed")


def supervise(job_file: str) -> int:
    from zoo_core.interrupts import child_setup

    job = json.loads(Path(job_file).read_text())
    rank = os.environ.get("RANK_ID", "?")
    child_setup()  # die with msrun
    pids = Path(job["pids"])
    pids.mkdir(parents=True, exist_ok=True)
    (pids / f"rank-{rank}").write_text(str(os.getpid()))
    child = subprocess.Popen(
        [sys.executable, __file__, job_file], env={**os.environ, CHILD: "1"}, preexec_fn=child_setup
    )
    stopping: list[int] = []

    def forward(signum: int, frame: object) -> None:  # the launcher stops the job: not a failure of this rank
        stopping.append(signum)
        child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    code = child.wait()
    if stopping:
        return 128 + stopping[0]
    if code < 0:
        name = signal.Signals(-code).name
        cause = " (out of memory, or killed from outside)" if -code == signal.SIGKILL else ""
        _mark(job, rank, f"killed by {name} (signal {-code}){cause}")
        return 128 - code
    if code != 0:
        _mark(job, rank, f"exited with code {code} without a report")
    return code


def work(job_file: str) -> int:
    job = json.loads(Path(job_file).read_text())
    rank = os.environ.get("RANK_ID", 0)
    try:
        from zoo_core.context import make_context
        from zoo_core.io import atomic_write_json
        from zoo_core.plugin.manager import default_manager
        from zoo_core.runtime.mindspore_env import load_mindspore

        ms = load_mindspore()
        from mindspore.communication import get_group_size, get_rank, init

        init()
        rank, size = get_rank(), get_group_size()
        ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True, device_num=size)
        spec = default_manager().get(job["model"])
        log = logging.getLogger(f"zoo.worker.{rank}")
        log.setLevel(logging.INFO if rank == 0 else logging.WARNING)
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        workdir = Path(job["workdir"])
        config = spec.config_cls.model_validate(job["config"])
        ctx = make_context(
            spec,
            job["stage"],
            config,
            workdir,
            log,
            data=Path(job["data"]) if job.get("data") else None,
            resume=job["resume"],
            rank=rank,
            workers=size,
            on_checkpoint=lambda path: atomic_write_json(job["checkpoint"], str(path)),
        )
        returned = spec.stage_function(job["stage"])(ctx)
        result = returned if returned is not None else ctx.result
        if rank == 0:
            report = {
                "result": result.model_dump(mode="json") if result is not None else None,
                "metrics": ctx.metrics,
                "inputs": [str(p) for p in ctx.inputs],
                "outputs": [str(p) for p in ctx.outputs],
                "warnings": ctx.warnings,
                "needs": ctx.needs,
                "data": str(ctx.data) if ctx.data else None,
            }
            atomic_write_json(job["result"], report)
        return 0
    except BaseException as exc:  # noqa: BLE001 - tell the launcher at once, so the other workers do not wait forever
        traceback.print_exc()
        _mark(job, rank, f"{type(exc).__name__}: {exc}")
        return 1


def main(job_file: str) -> int:
    """msrun's scheduler process (``MS_ROLE=MS_SCHED``) and the supervised child work; a worker supervises."""
    if os.environ.get("MS_ROLE") == "MS_SCHED":
        from zoo_core.interrupts import child_setup

        child_setup()  # die with msrun
    if os.environ.get(CHILD) == "1" or os.environ.get("MS_ROLE") == "MS_SCHED":
        return work(job_file)
    return supervise(job_file)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
