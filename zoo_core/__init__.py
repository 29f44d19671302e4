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
    "API_VERSION": "plugin",
    "hookimpl": "plugin",
    "CheckContext": "checks",
    "Rule": "checks",
    "ModelConfig": "config",
    "setting": "config",
    "Converter": "convert",
    "ConvertJob": "convert",
    "ConvertResult": "convert",
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
    "STAGES": "model",
    "ModelSpec": "model",
    "StageContext": "model",
    "open_backend": "runtime.backends",
    "load_mindspore": "runtime.mindspore_env",
}
_RENAMED = {"BACKEND_FORMATS": ("runtime.backends", "FORMATS")}

__all__ = [  # every name of _EXPORTS and _RENAMED (tests/test_plugins.py checks), and the progress helpers
    "API_VERSION",
    "BACKEND_FORMATS",
    "STAGES",
    "CheckContext",
    "ConvertJob",
    "ConvertResult",
    "Converter",
    "DocTemplates",
    "ModelConfig",
    "ModelMetadata",
    "ModelSpec",
    "Rule",
    "StageContext",
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
    "load_metadata",
    "load_mindspore",
    "open_backend",
    "parity",
    "progress",
    "setting",
    "sha256_file",
    "spreadsheet_safe",
    "stamp",
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
    from .convert import Converter, ConvertJob, ConvertResult, convert_all, file_parity, parity
    from .convert.delivery import write_delivery
    from .docs.render import DocTemplates
    from .errors import UsageError, ZooError
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
    from .model import STAGES, ModelSpec, StageContext
    from .plugin import API_VERSION, hookimpl
    from .runtime.backends import FORMATS as BACKEND_FORMATS
    from .runtime.backends import open_backend
    from .runtime.mindspore_env import load_mindspore
