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
    from .records import RecordStore, RunRecord

#: The stages of a delivery, in the order ``--stage all`` runs them.
STAGES: tuple[str, ...] = ("dataset", "network", "train", "eval", "export", "convert", "infer")

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
    records: "RecordStore"
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

    @property
    def stage_dir(self) -> Path:
        """``<workdir>/<stage>/``: where this stage keeps its outputs between runs."""
        path = self.workdir / self.stage
        path.mkdir(parents=True, exist_ok=True)
        return path

    def latest(self, stage: str) -> "RunRecord":
        """The newest successful record of ``stage``, or a clear error naming the command that makes one."""
        record = self.records.latest(stage)
        if record is None:
            raise ZooError(f"no successful '{stage}' run in {self.workdir}: run "
                           f"`zoo run {self.model.name} --stage {stage}` first")
        return record

    def input(self, path: str | Path) -> Path:
        self.inputs.append(Path(path))
        return Path(path)

    def output(self, path: str | Path) -> Path:
        self.outputs.append(Path(path))
        return Path(path)

    def need(self, tool: str, message: str) -> None:
        """Record that part of the stage needs ``tool``, missing here: the stage ends as "needs_tool"."""
        if tool not in self.needs:
            self.needs.append(tool)
        self.log.info("needs %s: %s", tool, message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.log.warning("warning: %s", message)
