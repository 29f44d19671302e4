# SPDX-License-Identifier: Apache-2.0
"""Hook specifications and stage contracts: what a zoo plugin may implement. Every hook is documented here and in
README.md; every stage's function shape and typed result here and in docs/plugins.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..hooks import hookspec
from ..results import (
    ConvertResult,
    DatasetResult,
    EvalResult,
    ExportResult,
    InferResult,
    NetworkResult,
    TrainResult,
)

if TYPE_CHECKING:
    from ..checks import Rule
    from ..context import StageContext
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


# The stages. A model implements a stage with a function of one of these shapes (named in ModelSpec.stages as
# "module:function"); the runner checks the result's type, and the conformance kit checks each stage and each
# capability the model declares (zoo_core.testing).


class DatasetStage(Protocol):
    """Prepare the data later stages read (``prepared``). ``ctx.data`` is the data the user brought (``--data``,
    with the ``user_data`` capability), else None: generate or fetch nothing; make the built-in data."""

    def __call__(self, ctx: StageContext) -> DatasetResult: ...


class NetworkStage(Protocol):
    """Build the network once and check it: parameters, and the compute of one forward pass."""

    def __call__(self, ctx: StageContext) -> NetworkResult: ...


class TrainStage(Protocol):
    """Train on the prepared data; most models hand their network, loss, optimizer and batches to
    ``zoo_core.train``, which gives the ``resume``, ``fine_tune`` and ``freeze`` capabilities."""

    def __call__(self, ctx: StageContext) -> TrainResult: ...


class EvalStage(Protocol):
    """Score a checkpoint (``zoo_core.trained_checkpoint``) on the test split with the declared metrics, and a
    baseline when there is a meaningful one."""

    def __call__(self, ctx: StageContext) -> EvalResult: ...


class ExportStage(Protocol):
    """Export the checkpoint to deployable formats, fixed-shape (and dynamic-shape where it serves), with the
    input spec, a parity sample and each file's parity."""

    def __call__(self, ctx: StageContext) -> ExportResult: ...


class ConvertStage(Protocol):
    """Convert the exported files with every registered converter; the core's own stage does it for every model
    (``zoo_core.convert.stage:run``)."""

    def __call__(self, ctx: StageContext) -> ConvertResult: ...


class InferStage(Protocol):
    """Run an exported file (``zoo_core.inference_model``) on the test split (delivery evidence) or, with
    ``infer_data``, on the user's files (``ctx.data``); write a predictions table (and, with ``infer_images``, a
    picture per sample) into ``ctx.stage_dir``."""

    def __call__(self, ctx: StageContext) -> InferResult: ...


STAGE_CONTRACTS: dict[str, tuple[type[Any], type[Any], tuple[str, ...]]] = {
    # stage: (the function's shape, its result, the capabilities that concern it)
    "dataset": (DatasetStage, DatasetResult, ("user_data",)),
    "network": (NetworkStage, NetworkResult, ()),
    "train": (TrainStage, TrainResult, ("resume", "fine_tune", "freeze")),
    "eval": (EvalStage, EvalResult, ()),
    "export": (ExportStage, ExportResult, ()),
    "convert": (ConvertStage, ConvertResult, ()),
    "infer": (InferStage, InferResult, ("infer_data", "infer_images")),
}
