# SPDX-License-Identifier: Apache-2.0
"""zoo: a plugin-based model-zoo delivery framework.

The public API for plugins is what this module exports (plus ``zoo_core.plugin.hookimpl`` and the conformance kit
``zoo_core.testing``); everything else in ``zoo_core`` is internal and may change. The MCNN plugin and the example
under ``examples/`` use only these names, like any third-party plugin. ``API_VERSION`` is the plugin API's version:
a plugin module declares the version it was written for as ``ZOO_API_VERSION``.

Names are imported on first use (PEP 562), so ``import zoo_core`` loads no numpy or framework: the ``zoo`` command
sets up its signal handling before any library starts a thread (``zoo_core.interrupts``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# ``progress`` is both a submodule and a function: bind the function now, so that no later import of the
# submodule can shadow it (tqdm starts no thread on import).
from .progress import format_eta, progress, stamp

_EXPORTS = {
    "API_VERSION": "hooks",
    "hookimpl": "hooks",
    "CheckContext": "checks",
    "Rule": "checks",
    "ModelConfig": "config",
    "setting": "config",
    "DeliverySettings": "settings",
    "FineTuneSettings": "settings",
    "TrainingSettings": "settings",
    "Converter": "convert",
    "ConvertJob": "convert",
    "convert_all": "convert",
    "file_parity": "convert",
    "parity": "convert",
    "write_delivery": "convert.delivery",
    "DocTemplates": "docs.render",
    "UsageError": "errors",
    "ZooError": "errors",
    "atomic_dir": "io",
    "atomic_path": "io",
    "atomic_write_csv": "io",
    "atomic_write_json": "io",
    "atomic_write_text": "io",
    "sha256_file": "io",
    "spreadsheet_safe": "io",
    "ModelMetadata": "metadata",
    "load_metadata": "metadata",
    "CAPABILITIES": "model",
    "STAGES": "model",
    "ModelSpec": "model",
    "StageContext": "context",
    "Baseline": "results",
    "Conversion": "results",
    "ConvertResult": "results",
    "DatasetResult": "results",
    "EpochPoint": "results",
    "EvalResult": "results",
    "ExportResult": "results",
    "ExportedFile": "results",
    "InferResult": "results",
    "Metric": "results",
    "NetworkResult": "results",
    "Parity": "results",
    "TensorSpec": "results",
    "Text": "results",
    "TrainResult": "results",
    "ArrayBatches": "training",
    "Batches": "training",
    "Training": "training",
    "load_weights": "training",
    "train": "training",
    "trained_checkpoint": "training",
    "inference_model": "inference",
    "open_backend": "runtime.backends",
    "load_mindspore": "runtime.mindspore_env",
}
_RENAMED = {"BACKEND_FORMATS": ("runtime.backends", "FORMATS")}

__all__ = [  # every name of _EXPORTS and _RENAMED (tests/test_plugins.py checks), and the progress helpers
    "API_VERSION",
    "ArrayBatches",
    "BACKEND_FORMATS",
    "Baseline",
    "Batches",
    "CAPABILITIES",
    "CheckContext",
    "Conversion",
    "ConvertJob",
    "ConvertResult",
    "Converter",
    "DatasetResult",
    "DeliverySettings",
    "DocTemplates",
    "EpochPoint",
    "EvalResult",
    "ExportResult",
    "ExportedFile",
    "FineTuneSettings",
    "InferResult",
    "Metric",
    "ModelConfig",
    "ModelMetadata",
    "ModelSpec",
    "NetworkResult",
    "Parity",
    "Rule",
    "STAGES",
    "StageContext",
    "TensorSpec",
    "Text",
    "TrainResult",
    "Training",
    "TrainingSettings",
    "UsageError",
    "ZooError",
    "atomic_dir",
    "atomic_path",
    "atomic_write_csv",
    "atomic_write_json",
    "atomic_write_text",
    "convert_all",
    "file_parity",
    "format_eta",
    "hookimpl",
    "inference_model",
    "load_metadata",
    "load_mindspore",
    "load_weights",
    "open_backend",
    "parity",
    "progress",
    "setting",
    "sha256_file",
    "spreadsheet_safe",
    "stamp",
    "train",
    "trained_checkpoint",
    "write_delivery",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module, attribute = _EXPORTS[name], name
    elif name in _RENAMED:
        module, attribute = _RENAMED[name]
    else:
        raise AttributeError(f"module 'zoo_core' has no attribute '{name}'")
    value = getattr(import_module(f".{module}", __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # what type checkers and IDEs see
    from .checks import CheckContext, Rule
    from .config import ModelConfig, setting
    from .context import StageContext
    from .convert import Converter, ConvertJob, convert_all, file_parity, parity
    from .convert.delivery import write_delivery
    from .docs.render import DocTemplates
    from .errors import UsageError, ZooError
    from .hooks import API_VERSION, hookimpl
    from .inference import inference_model
    from .io import (
        atomic_dir,
        atomic_path,
        atomic_write_csv,
        atomic_write_json,
        atomic_write_text,
        sha256_file,
        spreadsheet_safe,
    )
    from .metadata import ModelMetadata, load_metadata
    from .model import CAPABILITIES, STAGES, ModelSpec
    from .results import (
        Baseline,
        Conversion,
        ConvertResult,
        DatasetResult,
        EpochPoint,
        EvalResult,
        ExportedFile,
        ExportResult,
        InferResult,
        Metric,
        NetworkResult,
        Parity,
        TensorSpec,
        Text,
        TrainResult,
    )
    from .runtime.backends import FORMATS as BACKEND_FORMATS
    from .runtime.backends import open_backend
    from .runtime.mindspore_env import load_mindspore
    from .settings import DeliverySettings, FineTuneSettings, TrainingSettings
    from .training import ArrayBatches, Batches, Training, load_weights, train, trained_checkpoint
