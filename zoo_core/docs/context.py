# SPDX-License-Identifier: Apache-2.0
"""What the delivery README says, gathered from the model's metadata, config and run records only."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from typing import Any

from ..config import describe_keys
from ..errors import first_line
from ..model import STAGES, ModelSpec
from ..records import RecordStore, RunRecord

FORMAT_ORDER = ("ckpt", "air", "mindir", "onnx", "om", "ms")


def size_label(size: int) -> str:
    """The delivery size rule: under 1 MiB as ``xxK``, else ``xxM`` (binary units, as ModelZoo deliveries)."""
    return f"{round(size / 1024)}K" if size < 2**20 else f"{size / 2**20:.1f}M".replace(".0M", "M")


def duration_label(seconds: float) -> str:
    return str(dt.timedelta(seconds=round(seconds)))


def artifacts(workdir: Path, records: dict[str, RunRecord]) -> dict[str, dict[str, Any]]:
    """The delivered model files by format: path (relative to the workdir), size, sha256, the stage that made it."""
    found: dict[str, dict[str, Any]] = {}
    train = records.get("train")
    if train is not None:
        best = train.metrics.get("best_checkpoint")
        for art in train.outputs:
            if art.path == best:
                found["ckpt"] = {"path": art.path, "size": art.size, "sha256": art.sha256, "stage": "train"}
    for stage in ("export", "convert"):
        record = records.get(stage)
        for art in record.outputs if record else []:
            fmt = Path(art.path).suffix.lstrip(".")
            stem = Path(art.path).stem
            if fmt in FORMAT_ORDER and fmt not in found and not stem.endswith(("_dynamic", "_opt", "_fp16")):
                found[fmt] = {"path": art.path, "size": art.size, "sha256": art.sha256, "stage": stage}
    return {fmt: found[fmt] for fmt in FORMAT_ORDER if fmt in found}


def source_tree(spec: ModelSpec) -> list[str]:
    """``file    # first line of its docstring or comment`` for every source file of the plugin."""
    rows: list[str] = []
    for path in spec.source_files():
        summary = ""
        if path.suffix == ".py":
            summary = first_line(ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "")
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
    """Everything the templates may show. Records are the latest successful (or needs_tool) run of each stage."""
    store = RecordStore(workdir)
    records: dict[str, RunRecord] = {}
    for stage in STAGES:
        record = store.latest(stage) or store.latest(stage, "needs_tool")
        if record is not None:
            records[stage] = record
    infer_by_backend: dict[str, RunRecord] = {}
    for record in store.all("infer", kind="delivery"):  # inference on the user's own data is not evidence
        if record.status == "ok":
            infer_by_backend[record.metrics.get("backend", "?")] = record
    config = records["train"].config if "train" in records else {}
    return {
        "model": spec.name,
        "meta": spec.metadata,
        "records": {stage: records.get(stage) for stage in STAGES},  # None for a stage never run
        "infer_by_backend": infer_by_backend,
        "artifacts": artifacts(workdir, records),
        "recorded": records,
        "config": config,
        "config_keys": describe_keys(spec.config_cls),
        "defaults": spec.config_cls().model_dump(),
        "stages": spec.implemented,
        "sources": source_tree(spec),
        "train_log": log_excerpt(workdir, records.get("train")),
        "workdir": str(workdir),
    }
