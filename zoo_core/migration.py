# SPDX-License-Identifier: Apache-2.0
"""Records of schema version 1 (plugin API 1) read as version 2: their ``metrics`` dict, which stages filled by
naming convention, becomes the typed ``result`` (:mod:`zoo_core.results`). The metrics stay as they were.

Version-1 conventions: eval/infer ``scores`` with display-cased keys ({"Accuracy": 0.93}), an eval ``baseline`` dict
with a ``name``, export ``formats`` / ``sizes`` / ``parity`` keyed by format with a ``_dynamic`` suffix, and a
train ``metrics_file`` whose ``{"type": "epoch"}`` lines hold ``val_<metric>`` values.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from .results import RESULT_TYPES

_SPLITS = ("train", "val", "test")


def _lower(scores: dict[str, Any] | None) -> dict[str, float]:
    return {str(k).lower(): float(v) for k, v in (scores or {}).items() if isinstance(v, (int, float))}


def _output(record: dict[str, Any], ending: str) -> str | None:
    return next((a["path"] for a in record.get("outputs", []) if a["path"].endswith(ending)), None)


def _history(workdir: Path, metrics_file: str | None) -> list[dict[str, Any]]:
    path = workdir / metrics_file if metrics_file else None
    if path is None or not path.is_file():
        return []
    points = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row.get("type") == "epoch":
            metrics = {k[4:]: v for k, v in row.items() if k.startswith("val_") and isinstance(v, (int, float))}
            points.append(
                {
                    "epoch": row["epoch"],
                    "loss": row["loss"],
                    "seconds": row.get("time_s", 0.0),
                    "metrics": {k: v for k, v in metrics.items() if v == v},
                }
            )
    return points


def _dataset(m: dict[str, Any], record: dict[str, Any], workdir: Path) -> dict[str, Any]:
    splits = {s: int(m[f"{s}_images"]) for s in _SPLITS if isinstance(m.get(f"{s}_images"), int)}
    known = {f"{s}_images" for s in _SPLITS} | {"source_kind", "format"}
    facts = {k: v for k, v in m.items() if k not in known and isinstance(v, (int, float, str))}
    return {
        "source": record.get("data") or "",
        "synthetic": m.get("source_kind") == "synthetic",
        "layout": str(m.get("format", "unknown")),
        "splits": splits,
        "prepared": _output(record, "/") or "",
        "facts": facts,
    }


def _train(m: dict[str, Any], record: dict[str, Any], workdir: Path) -> dict[str, Any]:
    history = _history(workdir, m.get("metrics_file"))
    return {
        "epochs": m.get("epochs", len(history) or 1),
        "epochs_run": m.get("epochs_run", m.get("epochs", 1)),
        "steps_per_epoch": m.get("steps_per_epoch", 0),
        "batch_size": m.get("batch_size", 1),
        "workers": m.get("workers", 1),
        "best_checkpoint": m["best_checkpoint"],
        "last_checkpoint": m.get("last_checkpoint", m["best_checkpoint"]),
        "checkpoint_bytes": m.get("checkpoint_bytes", 0),
        "best_epoch": m.get("best_epoch", len(history)),
        "history": history,
        "final_loss": m.get("final_loss", 0.0),
        "optimizer": m.get("optimizer", ""),
        "loss_function": m.get("loss_function", ""),
        "precision": m.get("precision", "FP32"),
        "ms_per_step": m.get("ms_per_step", 0.0),
        "train_time_s": m.get("train_time_s", 0.0),
        "parameters": m.get("parameters", 0),
        "metrics_file": m.get("metrics_file"),
    }


def _eval(m: dict[str, Any], record: dict[str, Any], workdir: Path) -> dict[str, Any]:
    result: dict[str, Any] = {
        "scores": _lower(m.get("scores")),
        "samples": m.get("samples", 0),
        "checkpoint": str(m.get("checkpoint", "")),
        "predictions": _output(record, ".csv"),
    }
    baseline = m.get("baseline")
    if isinstance(baseline, dict):
        name = str(baseline.get("name", "baseline"))
        result["baseline"] = {
            "description": {"en": name, "zh": name},
            "scores": _lower({k: v for k, v in baseline.items() if k != "name"}),
        }
    return result


def _parity(p: dict[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(p, dict) or "max_abs_error" not in p:
        return None
    return {"max_abs_error": p["max_abs_error"], "relative_error": p.get("relative_error", p["max_abs_error"])}


def _export(m: dict[str, Any], record: dict[str, Any], workdir: Path) -> dict[str, Any]:
    files = []
    for key, path in m.get("formats", {}).items():
        files.append(
            {
                "format": key.removesuffix("_dynamic"),
                "path": path,
                "size": m.get("sizes", {}).get(key, 0),
                "dynamic": key.endswith("_dynamic"),
                "parity": _parity(m.get("parity", {}).get(key)),
            }
        )
    dynamic = {0: "batch", 2: "height", 3: "width"} if any(f["dynamic"] for f in files) else {}
    return {
        "input": {"name": m.get("input_name", "x"), "shape": m.get("input_shape", []), "dynamic_axes": dynamic},
        "files": files,
        "skipped": m.get("skipped", {}),
        "sample": m.get("sample", ""),
        "checkpoint": str(m.get("checkpoint", "")),
        "device": m.get("device", "CPU"),
    }


def _convert(m: dict[str, Any], record: dict[str, Any], workdir: Path) -> dict[str, Any]:
    conversions = [
        {**c, "parity": _parity(c.get("parity"))}
        | ({"command": shlex.split(c["command"])} if isinstance(c.get("command"), str) else {})
        for c in m.get("conversions", [])
    ]
    return {
        "conversions": conversions,
        "settings": {k: str(v) for k, v in m.get("settings", {}).items()},
        "delivery": m.get("delivery", []),
    }


def _infer(m: dict[str, Any], record: dict[str, Any], workdir: Path) -> dict[str, Any]:
    return {
        "backend": m.get("backend", ""),
        "backend_details": m.get("backend_details", {}),
        "model": str(m.get("model", "")),
        "source": str(m.get("source", record.get("data") or "")),
        "samples": m.get("samples", 0),
        "skipped": m.get("skipped_files", []),
        "labelled": m.get("labelled", 0),
        "scores": _lower(m.get("scores")),
        "seconds_per_sample": m.get("seconds_per_image", 0.0),
        "predictions": _output(record, ".csv") or "",
        "images": _output(record, "/"),
    }


_STAGES = {"dataset": _dataset, "train": _train, "eval": _eval, "export": _export, "convert": _convert, "infer": _infer}


def migrate(data: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """A record dict of schema version 1 as version 2. A stage whose metrics lack what its result needs (a failed
    run, a plugin that recorded something else) gets no result; nothing else changes."""
    data = dict(data, schema_version=2)
    metrics = data.get("metrics") or {}
    stage = data.get("stage")
    if data.get("status") not in ("ok", "needs_tool") or stage not in RESULT_TYPES:
        return data
    try:
        fields = {"parameters": metrics["parameters"]} if stage == "network" else _STAGES[stage](metrics, data, workdir)
        data["result"] = RESULT_TYPES[stage].model_validate({"stage": stage, **fields}).model_dump(mode="json")
    except (KeyError, TypeError, ValueError, AttributeError):  # pydantic's ValidationError is a ValueError
        data["result"] = None
    return data
