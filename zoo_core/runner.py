# SPDX-License-Identifier: Apache-2.0
"""The stage runner: plans stages, runs each with a log, and writes one run record per stage run."""
from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .config import ModelConfig, fingerprint, keys_for_stage
from .errors import UsageError, ZooError, did_you_mean
from .model import STAGES, ModelSpec, StageContext
from .records import Artifact, Environment, RecordStore, RunRecord
from .runtime.mindspore_env import runtime_facts
from .runtime.msrun import Cluster, job_for, launch


@dataclass
class Plan:
    stages: list[str]
    not_implemented: list[str] = field(default_factory=list)
    added: dict[str, str] = field(default_factory=dict)  # prerequisite stage -> why it was added


def parse_stages(spec: ModelSpec, text: str) -> Plan:
    """``dataset,train`` or ``all`` -> the stages to run, in pipeline order."""
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    if not wanted:
        raise UsageError("--stage is empty; give one or more of " + ", ".join(STAGES) + ", or all")
    if wanted == ["all"]:
        return Plan(spec.implemented, [s for s in STAGES if s not in spec.stages])
    for stage in wanted:
        if stage not in STAGES:
            raise UsageError(f"unknown stage '{stage}'{did_you_mean(stage, (*STAGES, 'all'))}")
        if stage not in spec.stages:
            raise UsageError(f"model '{spec.name}' does not implement stage '{stage}'; "
                             f"it implements: {', '.join(spec.implemented)}")
    return Plan([s for s in STAGES if s in wanted])


def stage_fingerprint(spec: ModelSpec, config: ModelConfig, stage: str) -> str:
    return fingerprint(config, keys_for_stage(spec.config_cls, stage))


def add_prerequisites(spec: ModelSpec, plan: Plan, config: ModelConfig, store: RecordStore,
                      data: Path | None) -> Plan:
    """Put in front any stage whose outputs a planned stage reads and that has no current record."""
    for stage in list(plan.stages):
        for need in spec.requires.get(stage, ()):
            if need in plan.stages:
                continue
            record = store.latest(need)
            if record is None:
                why = "it has no successful run yet"
            elif record.fingerprint != stage_fingerprint(spec, config, need):
                why = "its settings changed since its last run"
            elif data is not None and record.data != str(data):
                why = f"--data {data} differs from its last run's data"
            else:
                continue
            plan.stages.insert(plan.stages.index(stage), need)
            plan.added[need] = why
    plan.stages = [s for s in STAGES if s in plan.stages]
    return plan


class _TqdmHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        tqdm.write(self.format(record), file=sys.stdout)


def _logger(run_id: str, log_path: Path, quiet: bool) -> logging.Logger:
    log = logging.getLogger(f"zoo.run.{run_id}")
    log.setLevel(logging.INFO)
    log.propagate = False
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.FileHandler(log_path, encoding="utf-8")]
    if not quiet:
        handlers.append(_TqdmHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    return log


def _artifacts(paths: Sequence[Path], base: Path) -> list[Artifact]:
    seen: dict[str, Artifact] = {}
    for path in paths:
        if Path(path).exists():
            artifact = Artifact.of(Path(path), base)
            seen[artifact.path] = artifact
    return list(seen.values())


class Runner:
    """Runs a model's stages in one work directory and records every run."""

    def __init__(self, spec: ModelSpec, config: ModelConfig, preset: str, workdir: Path,
                 data: Path | None = None, resume: bool = False, quiet: bool = False,
                 on_record=lambda record: None, converters: Mapping[str, Any] | None = None,
                 cluster: Cluster | None = None) -> None:
        self.spec, self.config, self.preset = spec, config, preset
        self.workdir = Path(workdir)
        self.data = Path(data) if data is not None else None
        self.resume, self.quiet = resume, quiet
        self.store = RecordStore(self.workdir)
        self.on_record = on_record
        self.converters = dict(converters or {})
        self.cluster = cluster or Cluster()

    def plan(self, stages: str) -> Plan:
        plan = add_prerequisites(self.spec, parse_stages(self.spec, stages), self.config, self.store, self.data)
        if self.cluster.distributed and not set(plan.stages) & set(self.spec.distributed):
            raise UsageError(f"--workers/--nodes: none of the stages {', '.join(plan.stages)} runs distributed for "
                             f"'{self.spec.name}' (it can: {', '.join(self.spec.distributed) or 'none'})")
        return plan

    def _distributed(self, ctx: StageContext) -> None:
        """Run ``ctx.stage`` on msrun workers and take rank 0's results into ``ctx``."""
        folder = self.workdir / ctx.stage / "distributed"
        job = job_for(self.cluster, model=self.spec.name, stage=ctx.stage, config=self.config.model_dump(mode="json"),
                      workdir=str(self.workdir.resolve()), data=str(ctx.data) if ctx.data else None,
                      resume=self.resume)
        ctx.log.info(f"launching {self.cluster.world_size} data-parallel workers with msrun "
                     f"({self.cluster.workers} on this host, node {self.cluster.node_rank} of {self.cluster.nodes})")
        result = launch(job, self.cluster, folder, on_line=ctx.log.info)
        ctx.metrics.update(result.get("metrics", {}))
        ctx.inputs += [Path(p) for p in result.get("inputs", [])]
        ctx.outputs += [Path(p) for p in result.get("outputs", [])]
        ctx.warnings += result.get("warnings", [])
        ctx.needs += result.get("needs", [])
        ctx.metrics["workers"] = self.cluster.world_size
        ctx.metrics["worker_logs"] = [str(p.relative_to(self.workdir))
                                      for p in sorted((folder / "logs").glob("worker_*.log"))]
        if not result:
            ctx.log.info(f"node {self.cluster.node_rank} done; rank 0 (node 0) writes the outputs")

    def run_stage(self, stage: str) -> RunRecord:
        started = dt.datetime.now(dt.timezone.utc).astimezone()
        run_id = f"{started:%Y%m%d-%H%M%S-%f}-{stage}"
        log_path = self.workdir / "logs" / f"{run_id}.log"
        log = _logger(run_id, log_path, self.quiet)
        ctx = StageContext(model=self.spec, stage=stage, config=self.config, workdir=self.workdir,
                           records=self.store, log=log, data=self.data, resume=self.resume,
                           converters=self.converters)
        status, error, failure = "ok", None, None
        clock = time.perf_counter()
        try:
            if self.cluster.distributed and stage in self.spec.distributed:
                self._distributed(ctx)
            else:
                self.spec.stages[stage](ctx)
            if ctx.needs:
                status = "needs_tool"
        except ZooError as exc:
            status, error, failure = "failed", str(exc), exc
        except KeyboardInterrupt:
            status, error = "interrupted", "interrupted by the user"
            failure = ZooError(f"{stage} interrupted; continue with "
                               f"`zoo run {self.spec.name} --stage {stage} --resume`")
            failure.exit_code = 130
        except Exception as exc:  # a bug: keep the traceback in the log, show one line
            log.error(traceback.format_exc())
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            failure = ZooError(f"{stage} failed with an internal error: {error} (traceback in {log_path})")
            if os.environ.get("ZOO_DEBUG"):
                raise
        finally:
            for handler in list(log.handlers):
                handler.close()
                log.removeHandler(handler)
        if error is not None:
            with open(log_path, "a", encoding="utf-8") as handle:
                handle.write(f"{status}: {error}\n")
        duration = time.perf_counter() - clock
        record = RunRecord(
            run_id=run_id, model=self.spec.name, stage=stage, status=status, started=started,
            ended=dt.datetime.now(dt.timezone.utc).astimezone(), duration_s=round(duration, 3),
            preset=self.preset, config=self.config.model_dump(mode="json"),
            fingerprint=stage_fingerprint(self.spec, self.config, stage),
            data=str(ctx.data) if ctx.data is not None else None,
            environment=Environment.current(runtime_facts()),
            inputs=_artifacts(ctx.inputs, self.workdir), outputs=_artifacts(ctx.outputs, self.workdir),
            metrics=ctx.metrics, warnings=ctx.warnings, error=error, needs=ctx.needs, log=str(log_path.relative_to(self.workdir)))
        if not (self.cluster.node_rank > 0 and stage in self.spec.distributed):  # rank 0's host records it
            self.store.write(record)
        self.on_record(record)
        if failure is not None:
            raise failure
        return record
