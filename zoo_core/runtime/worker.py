# SPDX-License-Identifier: Apache-2.0
"""One msrun worker: set up MindSpore data parallelism, run the stage function with this rank, and (rank 0)
write the stage's results for the runner. Started by ``zoo_core.runtime.msrun``; not run by hand."""
from __future__ import annotations

import json
import logging
import sys
import traceback
from pathlib import Path


def main(job_file: str) -> int:
    job = json.loads(Path(job_file).read_text())
    rank = 0
    try:
        from zoo_core.io import atomic_write_json
        from zoo_core.model import StageContext
        from zoo_core.plugin.manager import default_manager
        from zoo_core.records import RecordStore
        from zoo_core.runtime.mindspore_env import load_mindspore

        ms = load_mindspore()
        from mindspore.communication import get_group_size, get_rank, init

        init()
        rank, size = get_rank(), get_group_size()
        ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True,
                                     device_num=size)
        spec = default_manager().get(job["model"])
        log = logging.getLogger(f"zoo.worker.{rank}")
        log.setLevel(logging.INFO if rank == 0 else logging.WARNING)
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        workdir = Path(job["workdir"])
        ctx = StageContext(model=spec, stage=job["stage"], config=spec.config_cls.model_validate(job["config"]),
                           workdir=workdir, records=RecordStore(workdir), log=log,
                           data=Path(job["data"]) if job.get("data") else None, resume=job["resume"],
                           rank=rank, workers=size)
        spec.stages[job["stage"]](ctx)
        if rank == 0:
            result = {"metrics": ctx.metrics, "inputs": [str(p) for p in ctx.inputs],
                      "outputs": [str(p) for p in ctx.outputs], "warnings": ctx.warnings, "needs": ctx.needs,
                      "data": str(ctx.data) if ctx.data else None}
            atomic_write_json(job["result"], result)
        return 0
    except BaseException as exc:  # tell the launcher at once, so the other workers do not wait forever
        traceback.print_exc()
        markers = Path(job["markers"])
        markers.mkdir(parents=True, exist_ok=True)
        (markers / f"rank-{rank}").write_text(f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
