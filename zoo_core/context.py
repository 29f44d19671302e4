# SPDX-License-Identifier: Apache-2.0
"""What a stage function gets (:class:`StageContext`): the model, its config, the work directory, the records,
a log, and where it reports what it read, wrote, measured and hands on (its typed result)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ZooError
from .model import DATA_STAGES, ModelSpec
from .records import shown_path

if TYPE_CHECKING:
    from .records import Kind, RecordStore, RunRecord
    from .results import StageResult


@dataclass
class StageContext:
    """Everything a stage function gets, and where it reports what it read, wrote and measured."""

    model: ModelSpec
    stage: str
    config: Any  # the model's ModelConfig subclass instance
    workdir: Path
    records: RecordStore
    log: logging.Logger
    data: Path | None = None  # --data; a stage that picks its own source (e.g. built-in data) sets it
    resume: bool = False
    inputs: list[Path] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)  # external tools a stage lacked (status "needs_tool")
    converters: Mapping[str, Any] = field(default_factory=dict)  # name -> zoo_core.convert.Converter
    rank: int = 0  # this process's rank in a data-parallel stage (only rank 0 writes outputs and logs)
    workers: int = 1  # processes of a data-parallel stage, on all hosts
    kind: Kind = "delivery"  # "user_data": inference on data the user brought, written to output_dir
    output_dir: Path | None = None  # where the stage writes, when not ``<workdir>/<stage>/``
    last_checkpoint: Path | None = None  # newest complete checkpoint (:meth:`checkpoint`): what --resume uses
    on_checkpoint: Callable[[Path], object] | None = None  # an msrun worker tells the launching process
    digests: dict[Path, str] = field(default_factory=dict)  # sha256 of inputs already verified
    result: StageResult | None = None  # what the stage hands on; a stage function may also return it

    @property
    def stage_dir(self) -> Path:
        """``<workdir>/<stage>/`` (or the user-data output folder): where this stage keeps its outputs."""
        path = self.output_dir or self.workdir / self.stage
        path.mkdir(parents=True, exist_ok=True)
        return path

    def rel(self, path: str | Path) -> str:
        """``path`` as results and records name it: relative to the work directory when inside it."""
        return shown_path(Path(path), self.workdir)

    def latest(self, stage: str) -> RunRecord:
        """The newest successful record of ``stage``, or a clear error naming the command that makes one."""
        record = self.records.latest(stage)
        if record is None:
            raise ZooError(
                f"no successful '{stage}' run in {self.workdir}: run `zoo run {self.model.name} --stage {stage}` first"
            )
        return record

    def latest_result(self, stage: str) -> tuple[Any, RunRecord]:
        """The typed result of the newest successful run of ``stage`` (``zoo_core.results``), with its record; a
        clear error when there is no such run or it recorded no result."""
        from .results import RESULT_TYPES

        record = self.latest(stage)
        if not isinstance(record.result, RESULT_TYPES[stage]):
            raise ZooError(
                f"the {stage} run {record.run_id} recorded no typed result: run `zoo run {self.model.name} "
                f"--stage {stage}` again"
            )
        return record.result, record

    def input(self, path: str | Path, record: RunRecord | None = None) -> Path:
        """Note that the stage reads ``path``, after checking it is what the run that wrote it recorded.

        With ``record`` the file must match that run's record (e.g. the checkpoint of the train run being
        evaluated); without, the latest run that lists it as an output. A file no run wrote (the user's own) is
        taken as it is. A missing or changed file is an error naming the run to repeat.
        """
        from .records import Artifact

        path = Path(path)
        found = self.records.producer(path, record)
        if found is not None:
            producer, expected = found
            rerun = f"run `zoo run {self.model.name} --stage {producer.stage}` again"
            later = [
                r
                for r in self.records.all(producer.stage, producer.kind)
                if r.started > producer.started and r.status in ("interrupted", "failed")
            ]
            if later:
                rerun = (
                    f"the later {producer.stage} run {later[-1].run_id} ended {later[-1].status}: finish it "
                    f"(`--resume`, where the stage supports it) or {rerun}"
                )
            if not path.exists():
                raise ZooError(f"{path} is missing: the {producer.stage} run {producer.run_id} wrote it; {rerun}")
            actual = Artifact.of(path, self.workdir).sha256
            if actual != expected:
                raise ZooError(
                    f"{path} has changed since the {producer.stage} run {producer.run_id} wrote it "
                    f"(sha256 {actual[:12]}, recorded {expected[:12]}): it was edited, damaged or "
                    f"rewritten by a run that did not finish; {rerun}"
                )
            self.digests[path] = actual
        self.inputs.append(path)
        return path

    def output(self, path: str | Path) -> Path:
        self.outputs.append(Path(path))
        return Path(path)

    def checkpoint(self, path: str | Path) -> Path:
        """Note a complete checkpoint (written atomically): an output, and what an interrupted run names as the
        point ``--resume`` continues from."""
        self.last_checkpoint = self.output(path)
        if self.on_checkpoint is not None:
            self.on_checkpoint(self.last_checkpoint)
        return self.last_checkpoint

    def need(self, tool: str, message: str) -> None:
        """Record that part of the stage needs ``tool``, missing here: the stage ends as "needs_tool"."""
        if tool not in self.needs:
            self.needs.append(tool)
        self.log.info("needs %s: %s", tool, message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.log.warning("warning: %s", message)


def user_data_dir(workdir: Path, data: Path) -> Path:
    """``<workdir>/predictions/<folder name>-<8 hex of its absolute path>/``: where inference on data the user
    brought writes, apart from the delivery's ``infer/`` (the same folder again replaces its own results)."""
    resolved = Path(data).resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:8]
    return Path(workdir) / "predictions" / f"{resolved.name or 'root'}-{digest}"


def make_context(
    spec: ModelSpec,
    stage: str,
    config: Any,
    workdir: Path,
    log: logging.Logger,
    *,
    data: Path | None = None,
    resume: bool = False,
    converters: Mapping[str, Any] | None = None,
    records: RecordStore | None = None,
    rank: int = 0,
    workers: int = 1,
    on_checkpoint: Callable[[Path], object] | None = None,
) -> StageContext:
    """The context of one stage run, for the runner and for each msrun worker alike: ``--data`` reaches only the
    stages that read it, and inference on data the user brought writes to its own folder as a user-data run."""
    from .records import RecordStore

    data = data if stage in DATA_STAGES else None
    user_data = stage == "infer" and data is not None
    return StageContext(
        model=spec,
        stage=stage,
        config=config,
        workdir=workdir,
        records=records or RecordStore(workdir),
        log=log,
        data=data,
        resume=resume,
        converters=dict(converters or {}),
        rank=rank,
        workers=workers,
        on_checkpoint=on_checkpoint,
        kind="user_data" if user_data else "delivery",
        output_dir=user_data_dir(workdir, data) if data is not None and user_data else None,
    )
