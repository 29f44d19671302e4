"""Hook specifications: what a zoo plugin may implement. Every hook is documented here and in README.md."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import hookspec

if TYPE_CHECKING:
    from ..convert import Converter
    from ..model import ModelSpec
    from ..records import RunRecord


@hookspec
def zoo_register_models(register: Callable[["ModelSpec"], None]) -> None:
    """Register the plugin's models: call ``register(ModelSpec(...))`` once per model.

    Called once when the plugin manager first lists models (``zoo list``, ``zoo run``...). Must be cheap: build
    the spec from metadata and config classes, and import frameworks only inside stage functions.
    """


@hookspec
def zoo_stage_finished(record: "RunRecord") -> None:
    """Called after the runner has written a stage's run record (any status: ok, failed or interrupted).

    For cross-cutting observers: notifications, uploading records, extra bookkeeping. The record is final; a
    plugin must not change it. An exception here is reported as a warning and does not fail the stage.
    """


@hookspec
def zoo_register_converters(register: Callable[["Converter"], None]) -> None:
    """Register model-format converters: call ``register(Converter(...))`` for each.

    A :class:`zoo_core.convert.Converter` names its source and target formats (``onnx``, ``om``, ``mindir``...)
    and the external tool it needs. The convert stage of a model runs every registered converter whose source
    format the export stage produced. zoo's own converters (atc, converter_lite, onnx-optimize, onnx-fp16) are
    registered through this hook too. Two converters with one name is an error naming both plugins.
    """
