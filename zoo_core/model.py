# SPDX-License-Identifier: Apache-2.0
"""The model object a plugin registers: name, metadata, config schema and presets, and its stage functions."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import ModelConfig
from .errors import ZooError
from .metadata import ModelMetadata

if TYPE_CHECKING:
    from .records import Kind, RecordStore, RunRecord

#: The stages of a delivery, in the order ``--stage all`` runs them.
STAGES: tuple[str, ...] = ("dataset", "network", "train", "eval", "export", "convert", "infer")
#: Stages that read ``--data``: ``dataset`` prepares it for training and evaluation; ``infer`` runs on it (then it
#: is data the user brought, not the evaluated test split, and the run is not delivery evidence).
DATA_STAGES: tuple[str, ...] = ("dataset", "infer")

StageFn = Callable[["StageContext"], None]
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class ModelSpec:
    """What a plugin registers through ``zoo_register_models(register)``.

    ``stages`` maps stage names (from :data:`STAGES`) to functions taking a :class:`StageContext`. A stage function
    imports its framework lazily, so ``zoo list`` stays fast. ``requires`` names stages whose current outputs a stage
    reads; the runner runs them first when they have no current record.
    """

    name: str
    metadata: ModelMetadata
    config_cls: type[ModelConfig]
    presets: Mapping[str, Mapping[str, Any]]
    stages: Mapping[str, StageFn]
    requires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    summary: str = ""
    source_dir: Path | None = None  # the plugin's source folder: the delivery's scripts tree and release checks
    distributed: tuple[str, ...] = ()  # stages that run data-parallel on msrun with --workers / --nodes

    def __post_init__(self) -> None:
        where = f"model '{self.name}'"
        if not _NAME.match(self.name):
            raise ZooError(f"{where}: name must be lower-case letters, digits, '-' or '_' (max 40)")
        unknown = sorted(set(self.stages) - set(STAGES))
        if unknown:
            raise ZooError(f"{where}: unknown stage(s) {unknown}; stages are {', '.join(STAGES)}")
        if "default" not in self.presets:
            raise ZooError(f"{where}: needs a 'default' preset")
        for stage, needs in self.requires.items():
            missing = [s for s in (stage, *needs) if s not in self.stages]
            if missing:
                raise ZooError(f"{where}: requires names stage(s) it does not implement: {missing}")
        keys = set(self.config_cls.model_fields)
        bad = [k for k in self.metadata.default_configuration.hyperparameters if k not in keys]
        if bad:
            raise ZooError(f"{where}: metadata default_configuration.hyperparameters names unknown config keys {bad}")

    @property
    def implemented(self) -> list[str]:
        return [stage for stage in STAGES if stage in self.stages]

    def source_files(self) -> list[Path]:
        """Every file of the plugin's source folder (``__pycache__`` left out), sorted; none without one."""
        if self.source_dir is None:
            return []
        return sorted(p for p in Path(self.source_dir).rglob("*") if p.is_file() and "__pycache__" not in p.parts)


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

    @property
    def stage_dir(self) -> Path:
        """``<workdir>/<stage>/`` (or the user-data output folder): where this stage keeps its outputs."""
        path = self.output_dir or self.workdir / self.stage
        path.mkdir(parents=True, exist_ok=True)
        return path

    def latest(self, stage: str) -> RunRecord:
        """The newest successful record of ``stage``, or a clear error naming the command that makes one."""
        record = self.records.latest(stage)
        if record is None:
            raise ZooError(
                f"no successful '{stage}' run in {self.workdir}: run `zoo run {self.model.name} --stage {stage}` first"
            )
        return record

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
