# SPDX-License-Identifier: Apache-2.0
"""Run records: one JSON file per stage run, the single source of truth for docs and checks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from .errors import ZooError, first_line
from .io import atomic_write_json, read_text, sha256_file
from .machine import Environment
from .metadata import format_validation_error
from .migration import migrate
from .results import StageResult

#: ``running`` is written when a stage starts; a run killed outright (kill -9, power loss) keeps it until the next
#: writer of the work directory marks it ``interrupted``.
Status = Literal["running", "ok", "needs_tool", "failed", "interrupted"]
#: ``delivery``: a run whose results the delivery README, the checklist and the bundle use; ``user_data``:
#: inference on data the user brought (its own output folder), recorded but never delivery evidence.
Kind = Literal["delivery", "user_data"]
RECORD_SCHEMA_VERSION = 2  # 2: the typed ``result``; version-1 records are migrated when read (zoo_core.migration)


def shown_path(path: Path, base: Path) -> str:
    """How records name ``path``: relative to the work directory ``base`` when inside it, else absolute."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path(base).resolve()))
    except ValueError:
        return str(resolved)


class Artifact(BaseModel):
    path: str  # a folder's path ends with "/"
    size: int
    sha256: str  # of a folder: of its files' digests in name order
    files: dict[str, str] | None = None  # a folder's files (relative path -> sha256), to verify one of them

    @classmethod
    def of(cls, path: Path, base: Path) -> Artifact:
        path = Path(path)
        shown = shown_path(path, base)
        if path.is_dir():
            files = [p for p in path.rglob("*") if p.is_file()]
            digests = {str(p.relative_to(path)): sha256_file(p) for p in files}
            return cls(
                path=shown + "/",
                size=sum(p.stat().st_size for p in files),
                files=digests,
                sha256=folder_digest(digests),
            )
        return cls(path=shown, size=path.stat().st_size, sha256=sha256_file(path))

    def digest_of(self, shown: str) -> str | None:
        """The recorded sha256 of ``shown``: this artifact, or a file or sub-folder of this folder; None if this
        artifact does not hold it."""
        if shown == self.path or shown + "/" == self.path:
            return self.sha256
        if not self.path.endswith("/") or not shown.startswith(self.path) or self.files is None:
            return None
        inner = shown[len(self.path) :]
        if inner in self.files:
            return self.files[inner]
        below = {name[len(inner) + 1 :]: digest for name, digest in self.files.items() if name.startswith(inner + "/")}
        return folder_digest(below) if below else None


def folder_digest(digests: dict[str, str]) -> str:
    """The sha256 of a folder: of its files' sha256, in the order of their relative paths."""
    return hashlib.sha256(",".join(digests[name] for name in sorted(digests)).encode()).hexdigest()


class RunRecord(BaseModel):
    """One stage run. Paths (artifacts, ``log``) are relative to the work directory when inside it."""

    schema_version: int = RECORD_SCHEMA_VERSION
    run_id: str
    model: str
    stage: str
    status: Status
    kind: Kind = "delivery"
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
    pid: int | None = None  # the process that ran the stage
    result: StageResult | None = None  # what the stage hands on (zoo_core.results), None if it ended without one


class RecordError(ZooError):
    """A record file that is not JSON or not a run record: named with its field, never skipped silently."""


def read_record(path: Path, workdir: Path | None = None) -> RunRecord:
    """One record file; one of an earlier schema version is migrated (files it names are read from ``workdir``)."""
    fix = f"fix it, or move it out of {path.parent}"
    try:
        data = json.loads(read_text(path, "record"))
    except ZooError as exc:
        raise RecordError(f"{exc}; or move it out of {path.parent}") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); {fix}") from None
    if isinstance(data, dict) and data.get("schema_version", 1) < RECORD_SCHEMA_VERSION:
        data = migrate(data, workdir or path.parent.parent)
    try:
        return RunRecord.model_validate(data)
    except ValidationError as exc:
        raise RecordError(f"{first_line(format_validation_error(str(path), exc))}; {fix}") from None


class RecordStore:
    """The records of one model's work directory: ``<workdir>/records/<run_id>.json``.

    Every reader gets an error naming the file and field of a record that is not valid; nothing is skipped.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.folder = self.workdir / "records"
        self._cache: dict[Path, tuple[float, int, RunRecord]] = {}

    def write(self, record: RunRecord) -> Path:
        return atomic_write_json(self.folder / f"{record.run_id}.json", record.model_dump(mode="json"))

    def _read(self, path: Path) -> RunRecord:
        stat = path.stat()
        cached = self._cache.get(path)
        if cached is None or cached[:2] != (stat.st_mtime, stat.st_size):
            cached = (stat.st_mtime, stat.st_size, read_record(path, self.workdir))
            self._cache[path] = cached
        return cached[2]

    def all(self, stage: str | None = None, kind: Kind | None = None) -> list[RunRecord]:
        """Every record (of ``stage`` and ``kind`` when given), oldest first."""
        records = [self._read(path) for path in sorted(self.folder.glob("*.json"))]
        records = [r for r in records if (stage is None or r.stage == stage) and (kind is None or r.kind == kind)]
        return sorted(records, key=lambda r: (r.started, r.run_id))

    def latest(self, stage: str, status: Status = "ok", kind: Kind = "delivery") -> RunRecord | None:
        matching = [r for r in self.all(stage, kind) if r.status == status]
        return matching[-1] if matching else None

    def producer(self, path: Path, record: RunRecord | None = None) -> tuple[RunRecord, str] | None:
        """The run that wrote ``path`` and the sha256 it recorded: ``record`` if given (None when it does not
        list the file), else the latest run listing it, while that run is still the latest of its stage (a later
        run of the stage may have rewritten the file without listing it)."""
        shown = shown_path(path, self.workdir)
        if record is not None:
            digest = next((d for a in record.outputs if (d := a.digest_of(shown)) is not None), None)
            return (record, digest) if digest is not None else None
        records = self.all()
        for index in range(len(records) - 1, -1, -1):
            for artifact in records[index].outputs:
                digest = artifact.digest_of(shown)
                if digest is not None:
                    later = [
                        r
                        for r in records[index + 1 :]
                        if (r.stage, r.kind) == (records[index].stage, records[index].kind)
                    ]
                    return None if later else (records[index], digest)
        return None
