# SPDX-License-Identifier: Apache-2.0
"""Run records: one JSON file per stage run, the single source of truth for docs and checks."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from .io import atomic_write_json, sha256_file

Status = Literal["ok", "needs_tool", "failed", "interrupted"]
RECORD_SCHEMA_VERSION = 1
_PACKAGES = ("zoo", "mindspore", "numpy", "opencv-python-headless", "scipy", "onnxruntime")


class Artifact(BaseModel):
    path: str
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path, base: Path) -> "Artifact":
        path = Path(path)
        try:
            shown = str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            shown = str(path.resolve())
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            digest = ",".join(sha256_file(p) for p in files)
            return cls(path=shown + "/", size=sum(p.stat().st_size for p in files),
                       sha256=hashlib.sha256(digest.encode()).hexdigest())
        return cls(path=shown, size=path.stat().st_size, sha256=sha256_file(path))


class Environment(BaseModel):
    python: str
    platform: str
    processor: str
    cores: int
    memory_gib: float | None = None
    packages: dict[str, str]
    isa: dict[str, str]
    device: str | None = None

    @classmethod
    def current(cls, runtime: dict[str, str] | None = None) -> "Environment":
        runtime = dict(runtime or {})
        packages = {}
        for name in _PACKAGES:
            try:
                packages[name] = importlib_metadata.version(name)
            except importlib_metadata.PackageNotFoundError:
                pass
        return cls(python=platform.python_version(), platform=platform.platform(), processor=_cpu_name(),
                   cores=os.cpu_count() or 1, memory_gib=_memory_gib(), packages=packages, isa=_isa_facts(),
                   device=runtime.get("device"))


def _cpu_name() -> str:
    from .runtime import proc_field
    return proc_field("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    from .runtime import proc_field
    total = proc_field("/proc/meminfo", "MemTotal")  # "24576000 kB"
    return round(int(total.split()[0]) / 2**20, 1) if total else None


def _isa_facts() -> dict[str, str]:
    from .runtime import isa_facts
    return isa_facts()


#: Metrics each stage's record must hold for the delivery README (the record -> docs contract; the conformance
#: kit checks it). ``scores`` is a mapping of metric name to value, e.g. {"MAE": 6.06, "MSE": 11.2}.
DOC_METRICS: dict[str, tuple[str, ...]] = {
    "dataset": ("source_kind",),
    "network": ("parameters",),
    "train": ("final_loss", "ms_per_step", "workers", "train_time_s", "parameters", "optimizer", "loss_function",
              "best_checkpoint", "checkpoint_bytes"),
    "eval": ("scores", "samples"),
    "export": ("formats", "sizes", "parity", "skipped", "input_shape"),
    "convert": ("conversions",),
    "infer": ("backend", "samples", "seconds_per_image"),
}


class RunRecord(BaseModel):
    """One stage run. Paths (artifacts, ``log``) are relative to the work directory when inside it."""

    schema_version: int = RECORD_SCHEMA_VERSION
    run_id: str
    model: str
    stage: str
    status: Status
    started: dt.datetime
    ended: dt.datetime
    duration_s: float
    preset: str
    config: dict[str, Any]
    fingerprint: str
    data: str | None = None
    environment: Environment
    inputs: list[Artifact] = []
    outputs: list[Artifact] = []
    metrics: dict[str, Any] = {}
    warnings: list[str] = []
    error: str | None = None
    needs: list[str] = []  # external tools the stage needed but did not find (status "needs_tool")
    log: str


class RecordStore:
    """The records of one model's work directory: ``<workdir>/records/<run_id>.json``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.folder = self.workdir / "records"

    def write(self, record: RunRecord) -> Path:
        return atomic_write_json(self.folder / f"{record.run_id}.json", record.model_dump(mode="json"))

    def all(self, stage: str | None = None) -> list[RunRecord]:
        """Every readable record, oldest first; unreadable files are skipped (they are reported by ``zoo runs``)."""
        records = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                record = RunRecord.model_validate(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, ValidationError):
                continue
            if stage is None or record.stage == stage:
                records.append(record)
        return sorted(records, key=lambda r: (r.started, r.run_id))

    def latest(self, stage: str, status: Status = "ok") -> RunRecord | None:
        matching = [r for r in self.all(stage) if r.status == status]
        return matching[-1] if matching else None
