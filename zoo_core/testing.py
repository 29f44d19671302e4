# SPDX-License-Identifier: Apache-2.0
"""The conformance kit: checks a model plugin against zoo's contract. Also a pytest plugin (entry point
``pytest11: zoo = zoo_core.testing``) giving the fixture ``zoo_conformance``::

    def test_my_model_conforms(zoo_conformance):
        zoo_conformance("mymodel")        # preset "smoke", in a temporary work directory

It checks: the model is registered, every preset validates, each implemented stage runs on the smoke preset and
writes a complete record holding the typed result of its contract (``zoo_core.plugin.spec.STAGE_CONTRACTS``), the
README renders in Chinese and English with nothing missing, ``zoo check`` finds no error, and every capability the
model declares works: ``resume`` (a finished training resumed has nothing to do), ``fine_tune`` (and ``freeze``)
from the trained checkpoint, ``infer_images`` (pictures drawn).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


class ConformanceError(AssertionError):
    """A model breaks the plugin contract; the message says which part and how."""


@dataclass
class Conformance:
    model: str
    stages: list[str] = field(default_factory=list)
    rules_passed: int = 0
    readmes: list[Path] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)


def check_conformance(model: str, workdir: Path, preset: str = "smoke") -> Conformance:
    """Run the whole contract for ``model`` in ``workdir``; raises ConformanceError on the first breach."""
    from . import api
    from .config import resolve_config
    from .docs.render import LANGS
    from .errors import ZooError
    from .plugin.manager import default_manager

    manager = default_manager()
    try:
        spec = manager.get(model)
    except ZooError as exc:
        raise ConformanceError(str(exc)) from None
    if preset not in spec.presets:
        raise ConformanceError(f"{model}: no '{preset}' preset; the kit runs every stage with it")
    for name in spec.presets:
        try:
            resolve_config(spec.config_cls, spec.presets, name)
        except ZooError as exc:
            raise ConformanceError(f"{model}: preset '{name}' is invalid: {exc}") from None
    report = Conformance(model)
    try:
        records = api.run(model, "all", preset=preset, workdir=workdir, quiet=True, manager=manager)
    except ZooError as exc:
        raise ConformanceError(f"{model}: a stage failed on the {preset} preset: {exc}") from None
    for record in records:
        _check_record(model, workdir, record)
        report.stages.append(record.stage)
    for lang in LANGS:
        try:
            rendered = api.render_docs(model, workdir, lang, manager=manager)
        except ZooError as exc:
            raise ConformanceError(f"{model}: the {lang} README does not render: {exc}") from None
        report.readmes.append(rendered.path)
    results = api.check(model, workdir, manager=manager)
    errors = [f for r in results for f in r.findings if f.severity == "error"]
    if errors:
        raise ConformanceError(
            f"{model}: zoo check finds {len(errors)} error(s), first {errors[0].rule}: "
            f"{errors[0].message} ({errors[0].file})"
        )
    report.rules_passed = sum(r.passed for r in results)
    report.capabilities = _check_capabilities(spec, workdir, preset, manager)
    return report


def _check_record(model: str, workdir: Path, record: Any) -> None:
    """A stage's record: finished, with its log, environment and the typed result its contract names."""
    from .plugin.spec import STAGE_CONTRACTS

    if record.status not in ("ok", "needs_tool"):
        raise ConformanceError(f"{model}: stage {record.stage} ended {record.status}")
    if not (workdir / record.log).is_file() or not record.environment.packages:
        raise ConformanceError(f"{model}: the {record.stage} record lacks its log or environment")
    expected = STAGE_CONTRACTS[record.stage][1]
    if not isinstance(record.result, expected):
        raise ConformanceError(f"{model}: the {record.stage} record holds no {expected.__name__}")


def _check_capabilities(spec: Any, workdir: Path, preset: str, manager: Any) -> list[str]:
    """Exercise what the model declares beyond its stages; returns the capabilities checked."""
    from .errors import ZooError

    probes = {"infer_images": _infer_images, "resume": _resume, "fine_tune": _fine_tune}
    checked = []
    for capability, probe in probes.items():
        if capability in spec.capabilities:
            try:
                probe(spec, workdir, preset, manager)
            except ZooError as exc:
                raise ConformanceError(f"{spec.name}: its {capability} capability failed: {exc}") from None
            checked.append(capability)
    return checked + (["freeze"] if "freeze" in spec.capabilities else [])


def _latest(workdir: Path, stage: str, kind: type) -> Any:
    from .records import RecordStore

    record = RecordStore(workdir).latest(stage)
    if record is None or not isinstance(record.result, kind):
        raise ConformanceError(f"no {stage} record with a {kind.__name__} in {workdir}")
    return record.result


def _infer_images(spec: Any, workdir: Path, preset: str, manager: Any) -> None:
    from .results import InferResult

    images = _latest(workdir, "infer", InferResult).images
    if not images or not any((workdir / images).iterdir()):
        raise ConformanceError(f"{spec.name}: declares infer_images, but infer drew no picture")


def _resume(spec: Any, workdir: Path, preset: str, manager: Any) -> None:
    from . import api
    from .results import TrainResult

    api.run(spec.name, "train", preset=preset, workdir=workdir, quiet=True, resume=True, manager=manager)
    if _latest(workdir, "train", TrainResult).epochs_run != 0:
        raise ConformanceError(f"{spec.name}: declares resume, but --resume on a finished training trained again")


def _fine_tune(spec: Any, workdir: Path, preset: str, manager: Any) -> None:
    """Fine-tune from the trained checkpoint (keeping its first parameter fixed, with ``freeze``)."""
    from . import api
    from .results import TrainResult

    best = workdir / _latest(workdir, "train", TrainResult).best_checkpoint
    sets = [f"pretrained={best}"] + ([f"freeze=[{_first_parameter(best)!r}]"] if "freeze" in spec.capabilities else [])
    api.run(spec.name, "train", preset=preset, sets=sets, workdir=workdir, quiet=True, manager=manager)
    result = _latest(workdir, "train", TrainResult)
    if result.fine_tuned_from != str(best):
        raise ConformanceError(f"{spec.name}: declares fine_tune, but the train record names no checkpoint")
    if "freeze" in spec.capabilities and not result.frozen:
        raise ConformanceError(f"{spec.name}: declares freeze, but the train record froze nothing")


def _first_parameter(checkpoint: Path) -> str:
    from .runtime.mindspore_env import load_mindspore

    return next(iter(load_mindspore().load_checkpoint(str(checkpoint))))


@pytest.fixture
def zoo_conformance(tmp_path):
    """``zoo_conformance(model, preset="smoke")``: run the conformance kit in a temporary work directory."""
    return lambda model, preset="smoke": check_conformance(model, tmp_path / model, preset)
