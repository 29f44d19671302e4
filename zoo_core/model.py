# SPDX-License-Identifier: Apache-2.0
"""The model object a plugin registers: name, metadata, config and presets, stages, metrics and capabilities."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from .config import ModelConfig
from .errors import ZooError, did_you_mean, first_line
from .metadata import ModelMetadata
from .results import Metric

#: The stages of a delivery, in the order ``--stage all`` runs them.
STAGES: tuple[str, ...] = ("dataset", "network", "train", "eval", "export", "convert", "infer")
#: Stages that read ``--data``: ``dataset`` prepares it for training and evaluation; ``infer`` runs on it (then it
#: is data the user brought, not the evaluated test split, and the run is not delivery evidence).
DATA_STAGES: tuple[str, ...] = ("dataset", "infer")

#: A stage function: a StageContext in, the stage's typed result out (the shapes: zoo_core.plugin.spec).
StageFn = Callable[[Any], Any]
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")

#: What a model can do beyond running its stages; the README shows a command or section only when the model
#: declares it (and the checklist fails on a README that shows a command the model rejects).
CAPABILITIES: dict[str, str] = {
    "user_data": "the dataset stage prepares data the user brings (--data)",
    "infer_data": "infer runs on files the user brings (--data)",
    "resume": "train continues from its newest complete checkpoint (--resume)",
    "fine_tune": "train starts from the weights of a checkpoint (--set pretrained=...)",
    "freeze": "fine-tuning can keep parameters fixed (--set freeze=[...])",
    "infer_images": "infer draws one picture per sample",
}
_NEEDS = {  # capability -> (stage it needs, config key it needs)
    "user_data": ("dataset", None),
    "infer_data": ("infer", None),
    "resume": ("train", None),
    "fine_tune": ("train", "pretrained"),
    "freeze": ("train", "freeze"),
    "infer_images": ("infer", None),
}
#: Stages whose outputs a stage reads, unless the model says otherwise: the runner runs them first when they have
#: no current record.
DEFAULT_REQUIRES: dict[str, tuple[str, ...]] = {"train": ("dataset",), "eval": ("dataset",), "convert": ("export",)}
#: The core's own stage implementations, used when a model implements export and leaves these out.
CORE_STAGES: dict[str, str] = {"convert": "zoo_core.convert.stage:run"}


@dataclass(frozen=True)
class ModelSpec:
    """What a plugin registers through ``zoo_register_models(register)``.

    ``stages`` maps stage names (from :data:`STAGES`) to ``"module:function"`` strings, imported only when the
    stage runs (so ``zoo list`` stays fast), or to functions. A stage function takes a :class:`StageContext` and
    returns its typed result (:mod:`zoo_core.results`). ``metrics`` declares what the model reports (one primary);
    ``capabilities`` what it supports beyond its stages (:data:`CAPABILITIES`). ``requires`` defaults to
    :data:`DEFAULT_REQUIRES`; a model that implements export gets the core's convert stage unless it names one
    (or maps ``convert`` to None). ``doc_templates`` is a folder of README section templates that override the
    core's (``sections/<name>.md.j2``).
    """

    name: str
    metadata: ModelMetadata
    config_cls: type[ModelConfig]
    presets: Mapping[str, Mapping[str, Any]]
    stages: Mapping[str, str | StageFn | None]
    metrics: tuple[Metric, ...] = ()
    capabilities: AbstractSet[str] = frozenset()  # a set or frozenset; kept as a frozenset
    requires: Mapping[str, tuple[str, ...]] | None = None
    summary: str = ""
    source_dir: Path | None = None  # the plugin's source folder: the delivery's scripts tree and release checks
    doc_templates: Path | None = None
    distributed: tuple[str, ...] = ()  # stages that run data-parallel on msrun with --workers / --nodes

    def __post_init__(self) -> None:
        where = f"model '{self.name}'"
        if not _NAME.match(self.name):
            raise ZooError(f"{where}: name must be lower-case letters, digits, '-' or '_' (max 40)")
        stages = dict(self.stages)
        for stage, target in CORE_STAGES.items():
            if "export" in stages and stage not in stages:
                stages[stage] = target
        object.__setattr__(self, "stages", {k: v for k, v in stages.items() if v is not None})
        object.__setattr__(self, "metrics", tuple(self.metrics))
        object.__setattr__(self, "capabilities", frozenset(self.capabilities))
        if self.requires is None:
            defaults = {s: tuple(n for n in needs if n in self.stages) for s, needs in DEFAULT_REQUIRES.items()}
            object.__setattr__(self, "requires", {s: n for s, n in defaults.items() if s in self.stages and n})
        self._validate(where)

    def _validate(self, where: str) -> None:
        unknown = sorted(set(self.stages) - set(STAGES))
        if unknown:
            raise ZooError(f"{where}: unknown stage(s) {unknown}; stages are {', '.join(STAGES)}")
        for stage, target in self.stages.items():
            if isinstance(target, str) and not _TARGET.match(target):
                raise ZooError(f"{where}: stage '{stage}' is {target!r}; give 'package.module:function'")
        if "default" not in self.presets:
            raise ZooError(f"{where}: needs a 'default' preset")
        for stage, needs in (self.requires or {}).items():
            missing = [s for s in (stage, *needs) if s not in self.stages]
            if missing:
                raise ZooError(f"{where}: requires names stage(s) it does not implement: {missing}")
        keys = set(self.config_cls.model_fields)
        bad = [k for k in self.metadata.default_configuration.hyperparameters if k not in keys]
        if bad:
            raise ZooError(f"{where}: metadata default_configuration.hyperparameters names unknown config keys {bad}")
        self._validate_metrics(where)
        for capability in sorted(self.capabilities):
            if capability not in CAPABILITIES:
                raise ZooError(f"{where}: unknown capability '{capability}'{did_you_mean(capability, CAPABILITIES)}")
            stage, key = _NEEDS[capability]
            if stage not in self.stages or (key is not None and key not in keys):
                raise ZooError(
                    f"{where}: capability '{capability}' needs the {stage} stage"
                    + (f" and a '{key}' config key" if key else "")
                )

    def _validate_metrics(self, where: str) -> None:
        keys = [m.key for m in self.metrics]
        if len(set(keys)) != len(keys):
            raise ZooError(f"{where}: metrics declare a key twice: {keys}")
        if self.metrics and sum(m.primary for m in self.metrics) != 1:
            raise ZooError(f"{where}: exactly one metric must be primary (primary=True)")
        if not self.metrics and {"eval", "train"} & set(self.stages):
            raise ZooError(f"{where}: declare the metrics eval and train report (metrics=[Metric(...), ...])")

    @property
    def implemented(self) -> list[str]:
        return [stage for stage in STAGES if stage in self.stages]

    @property
    def primary(self) -> Metric | None:
        return next((m for m in self.metrics if m.primary), None)

    def metric(self, key: str) -> Metric | None:
        return next((m for m in self.metrics if m.key == key), None)

    def show_scores(self, scores: Mapping[str, float], lang: str = "en") -> str:
        """``Accuracy 0.9312, CER (%) 1.41``: each score under its declared name (in ``lang``) and digits; a key the
        model does not declare as it is."""
        shown = [f"{m.label(lang)} {m.show(v)}" if (m := self.metric(k)) else f"{k} {v}" for k, v in scores.items()]
        return ("，" if lang == "zh" else ", ").join(shown)

    def stage_function(self, stage: str) -> StageFn:
        """The function of ``stage``, imported now if it was given as ``"module:function"``."""
        target = self.stages[stage]
        if not isinstance(target, str):
            return target  # type: ignore[return-value]
        module, function = target.split(":")
        try:
            return getattr(import_module(module), function)
        except (ImportError, AttributeError) as exc:
            raise ZooError(
                f"model '{self.name}': stage '{stage}' is {target}, which cannot be loaded "
                f"({type(exc).__name__}: {first_line(exc)})"
            ) from None

    def source_files(self) -> list[Path]:
        """Every file of the plugin's source folder (``__pycache__`` left out), sorted; none without one."""
        if self.source_dir is None:
            return []
        return sorted(p for p in Path(self.source_dir).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
