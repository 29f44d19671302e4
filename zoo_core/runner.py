# SPDX-License-Identifier: Apache-2.0
"""The stage runner: plans stages, runs each with a log, and writes one run record per stage run."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .config import ModelConfig
from .context import StageContext, make_context
from .errors import DiskFull, UsageError
from .interrupts import deferred
from .machine import Environment
from .model import ModelSpec
from .outcomes import Ending, append_line, checked_result, close_logger, ending, refuse_non_finite, stage_logger
from .planning import Plan, add_prerequisites, check_capabilities, parse_stages, stage_fingerprint
from .records import Artifact, RecordStore, RunRecord, Status, shown_path
from .results import STAGE_RESULT, StageResult
from .runtime.mindspore_env import runtime_facts
from .runtime.msrun import Cluster, job_for, launch, launch_folder
from .workdir import exclusive


def _artifacts(paths: Sequence[Path], base: Path, digests: Mapping[Path, str] | None = None) -> list[Artifact]:
    seen: dict[str, Artifact] = {}
    for path in paths:
        path = Path(path)
        if not path.exists():
            continue
        if digests and path in digests and path.is_file():
            artifact = Artifact(path=shown_path(path, base), size=path.stat().st_size, sha256=digests[path])
        else:
            artifact = Artifact.of(path, base)
        seen[artifact.path] = artifact
    return list(seen.values())


class Runner:
    """Runs a model's stages in one work directory and records every run.

    Use :meth:`session` around the stages: it takes the work directory's lock (one writer at a time), cleans up
    after a killed writer, and marks the records such a writer left ``running`` as ``interrupted``.
    """

    def __init__(
        self,
        spec: ModelSpec,
        config: ModelConfig,
        preset: str,
        workdir: Path,
        data: Path | None = None,
        resume: bool = False,
        quiet: bool = False,
        on_record=lambda record: None,
        converters: Mapping[str, Any] | None = None,
        cluster: Cluster | None = None,
        command: str = "zoo run",
    ) -> None:
        self.spec, self.config, self.preset = spec, config, preset
        self.workdir = Path(workdir)
        self.data = Path(data) if data is not None else None
        self.resume, self.quiet = resume, quiet
        self.store = RecordStore(self.workdir)
        self.on_record = on_record
        self.converters = dict(converters or {})
        self.cluster = cluster or Cluster()
        self.command = command

    @property
    def joins_another_host(self) -> bool:
        """A node of rank > 0: it only runs its share of the data-parallel stages; host 0 owns the work dir."""
        return self.cluster.node_rank > 0

    @contextlib.contextmanager
    def session(self) -> Iterator[list[str]]:
        """Hold the work directory for the ``with`` block; yields one line per leftover of a killed run it
        cleaned up."""
        if self.joins_another_host:
            yield []
            return
        with exclusive(self.workdir, self.command) as cleaned:
            yield cleaned + self._close_abandoned()

    def _close_abandoned(self) -> list[str]:
        notes = []
        for record in self.store.all():
            if record.status != "running":
                continue
            log = self.workdir / record.log
            ended = dt.datetime.fromtimestamp(log.stat().st_mtime).astimezone() if log.is_file() else record.started
            closed = record.model_copy(
                update={
                    "status": "interrupted",
                    "ended": ended,
                    "duration_s": round(max(0.0, (ended - record.started).total_seconds()), 3),
                    "error": f"the process (PID {record.pid}) ended without finishing the stage: killed (kill -9, out "
                    f"of memory) or the machine stopped",
                }
            )
            self.store.write(closed)
            notes.append(f"marked run {record.run_id} ({record.stage}) interrupted: its process ended without a record")
        return notes

    def plan(self, stages: str) -> Plan:
        plan = add_prerequisites(self.spec, parse_stages(self.spec, stages), self.config, self.store, self.data)
        check_capabilities(self.spec, plan, self.data is not None, self.resume)
        if self.cluster.distributed and not set(plan.stages) & set(self.spec.distributed):
            raise UsageError(
                f"--workers/--nodes: none of the stages {', '.join(plan.stages)} runs distributed for "
                f"'{self.spec.name}' (it can: {', '.join(self.spec.distributed) or 'none'})"
            )
        if self.joins_another_host:
            plan.skipped = [s for s in plan.stages if s not in self.spec.distributed]
            plan.stages = [s for s in plan.stages if s in self.spec.distributed]
        return plan

    def _distributed(self, ctx: StageContext) -> StageResult | None:
        """Run ``ctx.stage`` on msrun workers and take rank 0's results into ``ctx``."""
        folder = self.workdir / ctx.stage / "distributed"
        job = job_for(
            self.cluster,
            model=self.spec.name,
            stage=ctx.stage,
            config=self.config.model_dump(mode="json"),
            workdir=str(self.workdir.resolve()),
            data=str(ctx.data) if ctx.data else None,
            resume=self.resume,
        )
        ctx.log.info(
            f"launching {self.cluster.world_size} data-parallel workers with msrun "
            f"({self.cluster.workers} on this host, node {self.cluster.node_rank} of {self.cluster.nodes})"
        )
        try:
            result = launch(job, self.cluster, folder, on_line=ctx.log.info)
        finally:  # an interrupted run names rank 0's last complete checkpoint
            latest = launch_folder(folder, self.cluster) / "checkpoint.json"
            if latest.is_file():
                ctx.last_checkpoint = Path(json.loads(latest.read_text()))
        ctx.metrics.update(result.get("metrics", {}))
        ctx.inputs += [Path(p) for p in result.get("inputs", [])]
        ctx.outputs += [Path(p) for p in result.get("outputs", [])]
        ctx.warnings += result.get("warnings", [])
        ctx.needs += result.get("needs", [])
        ctx.metrics["workers"] = self.cluster.world_size
        ctx.metrics["worker_logs"] = [
            str(p.relative_to(self.workdir))
            for p in sorted(launch_folder(folder, self.cluster).glob("logs/worker_*.log"))
        ]
        if not result:
            ctx.log.info(f"node {self.cluster.node_rank} done; rank 0 (node 0) writes the outputs")
            return None
        return STAGE_RESULT.validate_python(result["result"]) if result.get("result") else None

    def _context(self, stage: str, log: logging.Logger) -> StageContext:
        return make_context(
            self.spec,
            stage,
            self.config,
            self.workdir,
            log,
            data=self.data,
            resume=self.resume,
            converters=self.converters,
            records=self.store,
        )

    def _record(
        self,
        ctx: StageContext,
        run_id: str,
        started: dt.datetime,
        status: Status,
        duration: float,
        error: str | None,
        log_path: Path,
    ) -> RunRecord:
        return RunRecord(
            run_id=run_id,
            model=self.spec.name,
            stage=ctx.stage,
            status=status,
            kind=ctx.kind,
            started=started,
            ended=dt.datetime.now(dt.timezone.utc).astimezone(),
            duration_s=round(duration, 3),
            preset=self.preset,
            config=self.config.model_dump(mode="json"),
            fingerprint=stage_fingerprint(self.spec, self.config, ctx.stage),
            data=str(ctx.data) if ctx.data is not None else None,
            environment=Environment.current(runtime_facts()),
            inputs=_artifacts(ctx.inputs, self.workdir, ctx.digests),
            outputs=_artifacts(ctx.outputs, self.workdir),
            metrics=ctx.metrics,
            warnings=ctx.warnings,
            error=error,
            needs=ctx.needs,
            log=str(log_path.relative_to(self.workdir)),
            pid=os.getpid(),
            result=ctx.result if status in ("ok", "needs_tool") else None,
        )

    def run_stage(self, stage: str) -> RunRecord:
        started = dt.datetime.now(dt.timezone.utc).astimezone()
        run_id = f"{started:%Y%m%d-%H%M%S-%f}-{stage}"
        log_path = self.workdir / "logs" / f"{run_id}.log"
        log = stage_logger(run_id, log_path, self.quiet)
        ctx = self._context(stage, log)
        recorded = not (self.joins_another_host and stage in self.spec.distributed)  # host 0 records it
        end = Ending("ok")
        clock = time.perf_counter()
        try:
            if recorded:
                with deferred():
                    self.store.write(self._record(ctx, run_id, started, "running", 0.0, None, log_path))
            if self.cluster.distributed and stage in self.spec.distributed:
                returned = self._distributed(ctx)
            else:
                returned = self.spec.stage_function(stage)(ctx)
            refuse_non_finite(stage, ctx.metrics, "metrics")
            if recorded:
                ctx.result = checked_result(self.spec, stage, returned if returned is not None else ctx.result)
            if ctx.needs:
                end.status = "needs_tool"
        except BaseException as exc:  # noqa: BLE001 - every way a stage can end gets its record and one line
            checkpoint = str(shown_path(ctx.last_checkpoint, self.workdir)) if ctx.last_checkpoint else None
            end = ending(exc, stage, self.spec.name, log, log_path, checkpoint, self.workdir)
        finally:
            close_logger(log)
        if end.error is not None:
            append_line(log_path, f"{end.status}: {end.error}")
        record = self._record(ctx, run_id, started, end.status, time.perf_counter() - clock, end.error, log_path)
        if recorded:
            with deferred():
                try:
                    self.store.write(record)
                except DiskFull as exc:  # the stage's own failure says more, if it had one
                    raise (end.failure or exc) from None
        self.on_record(record)
        if end.failure is not None:
            raise end.failure
        return record
