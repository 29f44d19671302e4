# SPDX-License-Identifier: Apache-2.0
"""Hook specifications: what a zoo plugin may implement. Every hook is documented here and in README.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import hookspec

if TYPE_CHECKING:
    from ..checks import Rule
    from ..convert import Converter
    from ..docs.render import DocTemplates
    from ..model import ModelSpec
    from ..records import RunRecord


@hookspec
def zoo_register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register the plugin's models: call ``register(ModelSpec(...))`` once per model.

    Called once when the plugin manager first lists models (``zoo list``, ``zoo run``...). Must be cheap: build
    the spec from metadata and config classes, and import frameworks only inside stage functions.
    """


@hookspec
def zoo_stage_finished(record: RunRecord) -> None:
    """Called after the runner has written a stage's run record (any status: ok, failed or interrupted).

    For cross-cutting observers: notifications, uploading records, extra bookkeeping. The record is final; a
    plugin must not change it. An exception here is reported as a warning and does not fail the stage.
    """


@hookspec
def zoo_register_converters(register: Callable[[Converter], None]) -> None:
    """Register model-format converters: call ``register(Converter(...))`` for each.

    A :class:`zoo_core.convert.Converter` names its source and target formats (``onnx``, ``om``, ``mindir``...)
    and the external tool it needs. The convert stage of a model runs every registered converter whose source
    format the export stage produced. zoo's own converters (atc, converter_lite, onnx-optimize, onnx-fp16) are
    registered through this hook too. Two converters with one name is an error naming both plugins.
    """


@hookspec
def zoo_doc_templates(model: ModelSpec) -> DocTemplates | None:
    """Return a :class:`zoo_core.docs.render.DocTemplates` (a template folder, and extra section names) for
    ``model``, or None.

    Called by ``zoo render-docs``. Files in the folder override the core's templates of the same name (a section is
    ``sections/<name>.md.j2``), so a plugin changes one section without copying the others. Every plugin's answer
    is used, in registration order.
    """


@hookspec
def zoo_register_checks(register: Callable[[Rule], None]) -> None:
    """Register release-checklist rules: call ``register(Rule(...))`` for each.

    A :class:`zoo_core.checks.Rule` has a stable id (``ABC-123``), a severity (error or warning), a one-line fix
    and a ``check(ctx)`` function returning ``(message, file, line)`` per problem; ``ctx`` is a
    :class:`zoo_core.checks.CheckContext` (the model, its records, its README texts). ``zoo check`` runs every
    registered rule; zoo's own rules come through this hook too. Two rules with one id is an error naming both.
    """
