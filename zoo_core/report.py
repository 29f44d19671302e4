# SPDX-License-Identifier: Apache-2.0
"""The human text of the ``zoo`` command: one-line summaries of run records (by their typed results and the
model's declared metrics), the plan of a run, a model's description and the checklist's findings. Pure
functions returning lines; ``zoo_core.cli`` prints them (``--json`` prints the data instead)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .model import ModelSpec
from .planning import Plan
from .records import RunRecord
from .results import ConvertResult, DatasetResult, ExportResult, NetworkResult, TrainResult


def summary(record: RunRecord, spec: ModelSpec) -> str:
    """What a run handed on, in a few words (its numeric metrics for a record without a typed result)."""
    result = record.result
    if isinstance(result, TrainResult):
        best = result.history[result.best_epoch - 1].metrics if 0 < result.best_epoch <= len(result.history) else {}
        return f"{result.epochs_run} epoch(s), best epoch {result.best_epoch}" + (
            f" ({spec.show_scores(best)})" if best else ""
        )
    if isinstance(result, DatasetResult):
        return ", ".join(f"{split} {count}" for split, count in result.splits.items())
    if isinstance(result, NetworkResult):
        return f"{result.parameters:,} parameters"
    if isinstance(result, ExportResult):
        return ", ".join(sorted({f.format for f in result.files}))
    if isinstance(result, ConvertResult):
        return ", ".join(f"{c.converter} {c.status}" for c in result.conversions)
    scores = getattr(result, "scores", None)
    if scores:
        return f"{spec.show_scores(scores)} on {getattr(result, 'samples', '?')} samples"
    return ", ".join(f"{k}={v}" for k, v in record.metrics.items() if isinstance(v, (int, float)))


def plan_lines(plan: Plan, model: str, cleaned: Sequence[str]) -> list[str]:
    lines = [f"work directory: {line}" for line in cleaned]
    if plan.not_implemented:
        lines.append(f"not implemented by {model}, not run: {', '.join(plan.not_implemented)}")
    if plan.skipped:
        lines.append(f"left to node 0: {', '.join(plan.skipped)} (this node runs only its data-parallel share)")
    lines += [f"running '{stage}' first: {why}" for stage, why in plan.added.items()]
    return lines


def info_lines(data: dict[str, Any]) -> list[str]:
    """``zoo info``: the model's metadata, stages, metrics, capabilities, presets and config keys."""
    meta = data["metadata"]
    metrics = [f"{m['key']} ({m['better']} is better{', primary' if m['primary'] else ''})" for m in data["metrics"]]
    lines = [
        f"{data['name']}: {data['summary']}",
        f"  version {meta['version']}, {meta['framework']} {meta['framework_version']}, "
        f"category {meta['category']}, formats {'/'.join(meta['model_formats'])}",
        "  stages: " + ", ".join(f"{k} ({v})" for k, v in data["stages"].items()),
        "  metrics: " + (", ".join(metrics) or "none"),
        "  capabilities: " + (", ".join(f"{k}: {v}" for k, v in data["capabilities"].items()) or "none"),
        "  presets: " + ", ".join(data["presets"]),
        "  config keys (stage, default):",
    ]
    return lines + [
        f"    {key:<22} {item['stage'] or '-':<8} {item['default']!r:<14} {item['description']}"
        for key, item in data["config"].items()
    ]


def check_lines(results: Sequence[Any]) -> list[str]:
    """``zoo check``: a line per rule, its findings under it, and the totals."""
    lines = []
    findings = [f for r in results for f in r.findings]
    for result in results:
        rule = result.rule
        lines.append(f"{'✓' if result.passed else '✗'} {rule.id:<9} {rule.severity:<8} {rule.title}")
        for f in result.findings:
            where = f"{f.file}:{f.line}" if f.line else f.file
            lines.append(f"    {where}: {f.message} (fix: {f.fix})")
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    passed = sum(r.passed for r in results)
    lines.append(f"{len(results)} rules: {passed} passed, {errors} error(s), {warnings} warning(s)")
    return lines
