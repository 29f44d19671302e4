# SPDX-License-Identifier: Apache-2.0
"""What the delivery README says, gathered from the model's metadata, config and run records only."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path
from typing import Any

from ..config import describe_keys
from ..model import STAGES, ModelSpec
from ..records import RecordStore, RunRecord
from ..results import ConvertResult, ExportResult, InferResult, TrainResult

FORMAT_ORDER = ("ckpt", "air", "mindir", "onnx", "om", "ms")


def size_label(size: int) -> str:
    """The delivery size rule: under 1 MiB as ``xxK``, else ``xxM`` (binary units, as ModelZoo deliveries)."""
    return f"{round(size / 1024)}K" if size < 2**20 else f"{size / 2**20:.1f}M".replace(".0M", "M")


def duration_label(seconds: float) -> str:
    return str(dt.timedelta(seconds=round(seconds)))


def artifacts(records: dict[str, RunRecord]) -> dict[str, dict[str, Any]]:
    """The delivered model files by format, from the typed results: the best checkpoint, the fixed-shape exports
    and the converted files (om, ms). Each: path (relative to the workdir), size, sha256, the stage that made it."""
    wanted: dict[str, tuple[str, str]] = {}  # format -> (path, stage)
    train, export, convert = (records[s].result if s in records else None for s in ("train", "export", "convert"))
    if isinstance(train, TrainResult):
        wanted["ckpt"] = (train.best_checkpoint, "train")
    if isinstance(export, ExportResult):
        for file in export.files:
            if not file.dynamic:
                wanted.setdefault(file.format, (file.path, "export"))
    if isinstance(convert, ConvertResult):
        for path in (p for c in convert.conversions for p in c.outputs):
            if Path(path).suffix.lstrip(".") in ("om", "ms"):
                wanted.setdefault(Path(path).suffix.lstrip("."), (path, "convert"))
    found: dict[str, dict[str, Any]] = {}
    for fmt, (path, stage) in wanted.items():
        art = next((a for a in records[stage].outputs if a.path == path), None)
        if art is not None:
            found[fmt] = {"path": art.path, "size": art.size, "sha256": art.sha256, "stage": stage}
    return {fmt: found[fmt] for fmt in FORMAT_ORDER if fmt in found}


def first_sentence(text: str) -> str:
    """The first sentence of the first paragraph of ``text`` (a docstring), on one line."""
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    return re.split(r"(?<=\.)\s", paragraph, maxsplit=1)[0]


def source_tree(spec: ModelSpec) -> list[str]:
    """``file    # first sentence of its docstring, or its first comment`` for every source file of the plugin."""
    rows: list[str] = []
    for path in spec.source_files():
        summary = ""
        if path.suffix == ".py":
            summary = first_sentence(ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "")
        elif path.suffix in (".yaml", ".yml", ".sh"):
            first = next((row for row in path.read_text(encoding="utf-8").splitlines() if row.startswith("#")), "")
            summary = first.lstrip("#! ").strip() if not first.startswith("#!") else ""
        name = str(path.relative_to(spec.source_dir)) if spec.source_dir else path.name
        rows.append(f"{name}    # {summary}" if summary else name)
    return rows


def log_excerpt(workdir: Path, record: RunRecord | None, head: int = 3, tail: int = 3) -> list[str]:
    """Seed-style training log lines of a run: the first and last few, with the evaluation lines."""
    if record is None:
        return []
    path = workdir / record.log
    lines = [row for row in path.read_text(encoding="utf-8").splitlines() if "epoch" in row] if path.is_file() else []
    return lines if len(lines) <= head + tail else lines[:head] + ["..."] + lines[-tail:]


def build_context(spec: ModelSpec, workdir: Path) -> dict[str, Any]:
    """Everything the templates may show. Records are the latest successful (or needs_tool) run of each stage;
    ``res`` holds their typed results (None for a stage never run)."""
    store = RecordStore(workdir)
    records: dict[str, RunRecord] = {}
    for stage in STAGES:
        record = store.latest(stage) or store.latest(stage, "needs_tool")
        if record is not None:
            records[stage] = record
    infer_by_backend: dict[str, InferResult] = {}
    for record in store.all("infer", kind="delivery"):  # inference on the user's own data is not evidence
        if record.status == "ok" and isinstance(record.result, InferResult):
            infer_by_backend[record.result.backend] = record.result
    return {
        "model": spec.name,
        "meta": spec.metadata,
        "records": {stage: records.get(stage) for stage in STAGES},  # None for a stage never run
        "res": {stage: records[stage].result if stage in records else None for stage in STAGES},
        "infer_by_backend": infer_by_backend,
        "artifacts": artifacts(records),
        "recorded": records,
        "metrics": list(spec.metrics),
        "primary": spec.primary,
        "caps": sorted(spec.capabilities),
        "config": records["train"].config if "train" in records else {},
        "config_keys": describe_keys(spec.config_cls),
        "defaults": spec.config_cls().model_dump(),
        "stages": spec.implemented,
        "sources": source_tree(spec),
        "train_log": log_excerpt(workdir, records.get("train")),
        "workdir": str(workdir),
    }
