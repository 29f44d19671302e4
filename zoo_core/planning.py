# SPDX-License-Identifier: Apache-2.0
"""Which stages a run executes: the ones asked for, in pipeline order, with the prerequisites they read put in
front when those have no current record (never run, settings changed, other --data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .config import ModelConfig, fingerprint, keys_for_stage
from .errors import UsageError, did_you_mean
from .model import DATA_STAGES, STAGES, ModelSpec
from .records import RecordStore


@dataclass
class Plan:
    stages: list[str]
    not_implemented: list[str] = field(default_factory=list)
    added: dict[str, str] = field(default_factory=dict)  # prerequisite stage -> why it was added
    skipped: list[str] = field(default_factory=list)  # stages host 0 runs, left out on a node of rank > 0


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
            raise UsageError(
                f"model '{spec.name}' does not implement stage '{stage}'; it implements: {', '.join(spec.implemented)}"
            )
    return Plan([s for s in STAGES if s in wanted])


_DATA_CAPABILITY = {"dataset": "user_data", "infer": "infer_data"}


def check_capabilities(spec: ModelSpec, plan: Plan, data: bool, resume: bool) -> None:
    """Refuse, before anything runs, ``--data`` or ``--resume`` where the model does not declare the capability
    for a stage of the plan."""
    if data:
        for stage in plan.stages:
            capability = _DATA_CAPABILITY.get(stage)
            if capability and capability not in spec.capabilities:
                raise UsageError(
                    f"model '{spec.name}' does not read --data in its {stage} stage (it does not declare the "
                    f"'{capability}' capability); run without --data"
                )
    if resume and "train" in plan.stages and "resume" not in spec.capabilities:
        raise UsageError(
            f"model '{spec.name}' cannot resume training (it does not declare the 'resume' capability); run "
            f"without --resume"
        )


def stage_fingerprint(spec: ModelSpec, config: ModelConfig, stage: str) -> str:
    return fingerprint(config, keys_for_stage(spec.config_cls, stage))


def add_prerequisites(spec: ModelSpec, plan: Plan, config: ModelConfig, store: RecordStore, data: Path | None) -> Plan:
    """Put in front any stage whose outputs a planned stage reads and that has no current record."""
    for stage in list(plan.stages):
        for need in (spec.requires or {}).get(stage, ()):
            if need in plan.stages:
                continue
            record = store.latest(need)
            if record is None:
                why = "it has no successful run yet"
            elif record.fingerprint != stage_fingerprint(spec, config, need):
                why = "its settings changed since its last run"
            elif data is not None and need in DATA_STAGES and record.data != str(data):
                why = f"--data {data} differs from its last run's data"
            else:
                continue
            plan.stages.insert(plan.stages.index(stage), need)
            plan.added[need] = why
    plan.stages = [s for s in STAGES if s in plan.stages]
    return plan
