# SPDX-License-Identifier: Apache-2.0
"""zoo: a plugin-based model-zoo delivery framework.

The public API for plugins is what this module exports (plus ``zoo_core.plugin.hookimpl`` and the conformance kit
``zoo_core.testing``); everything else in ``zoo_core`` is internal and may change. The MCNN plugin and the example
under ``examples/`` use only these names, like any third-party plugin. ``API_VERSION`` is the plugin API's version:
a plugin module declares the version it was written for as ``ZOO_API_VERSION``.
"""
from __future__ import annotations

from .checks import CheckContext, Rule
from .config import ModelConfig, setting
from .convert import Converter, ConvertJob, ConvertResult, convert_all, file_parity, parity
from .convert.delivery import write_delivery
from .docs.render import DocTemplates
from .errors import UsageError, ZooError
from .io import atomic_dir, atomic_path, atomic_write_json, atomic_write_text, sha256_file
from .metadata import ModelMetadata, load_metadata
from .model import STAGES, ModelSpec, StageContext
from .plugin import API_VERSION, hookimpl
from .progress import format_eta, progress, stamp
from .runtime.backends import FORMATS as BACKEND_FORMATS
from .runtime.backends import open_backend
from .runtime.mindspore_env import load_mindspore

__all__ = [
    "API_VERSION", "BACKEND_FORMATS", "STAGES", "CheckContext", "ConvertJob", "ConvertResult", "Converter",
    "DocTemplates", "ModelConfig", "ModelMetadata", "ModelSpec", "Rule", "StageContext", "UsageError", "ZooError",
    "atomic_dir", "atomic_path", "atomic_write_json", "atomic_write_text", "convert_all", "file_parity", "format_eta",
    "hookimpl", "load_metadata", "load_mindspore", "open_backend", "parity", "progress", "setting", "sha256_file",
    "stamp", "write_delivery",
]
