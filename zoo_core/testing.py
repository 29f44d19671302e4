# SPDX-License-Identifier: Apache-2.0
"""The conformance kit: checks a model plugin against zoo's contract. Also a pytest plugin (entry point
``pytest11: zoo = zoo_core.testing``) giving the fixture ``zoo_conformance``::

    def test_my_model_conforms(zoo_conformance):
        zoo_conformance("mymodel")        # preset "smoke", in a temporary work directory

It checks: the model is registered, its metadata and every preset validate, each implemented stage runs on the
smoke preset and writes a complete record (with the metrics the delivery README needs, ``DOC_METRICS``), the
README renders in Chinese and English with nothing missing, and ``zoo check`` finds no error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest


class ConformanceError(AssertionError):
    """A model breaks the plugin contract; the message says which part and how."""


@dataclass
class Conformance:
    model: str
    stages: list[str] = field(default_factory=list)
    rules_passed: int = 0
    readmes: list[Path] = field(default_factory=list)


def check_conformance(model: str, workdir: Path, preset: str = "smoke") -> Conformance:
    """Run the whole contract for ``model`` in ``workdir``; raises ConformanceError on the first breach."""
    from . import api
    from .config import resolve_config
    from .docs.render import LANGS
    from .errors import ZooError
    from .metadata import ModelMetadata
    from .plugin.manager import default_manager
    from .records import DOC_METRICS

    manager = default_manager()
    try:
        spec = manager.get(model)
    except ZooError as exc:
        raise ConformanceError(str(exc)) from None
    ModelMetadata.model_validate(spec.metadata.model_dump())
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
        if record.status not in ("ok", "needs_tool"):
            raise ConformanceError(f"{model}: stage {record.stage} ended {record.status}")
        if not (workdir / record.log).is_file() or not record.environment.packages:
            raise ConformanceError(f"{model}: the {record.stage} record lacks its log or environment")
        missing = [key for key in DOC_METRICS.get(record.stage, ()) if key not in record.metrics]
        if missing:
            raise ConformanceError(
                f"{model}: the {record.stage} record lacks metrics {missing} the delivery README "
                f"needs (see zoo_core.records.DOC_METRICS)"
            )
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
    return report


@pytest.fixture
def zoo_conformance(tmp_path):
    """``zoo_conformance(model, preset="smoke")``: run the conformance kit in a temporary work directory."""
    return lambda model, preset="smoke": check_conformance(model, tmp_path / model, preset)
