# SPDX-License-Identifier: Apache-2.0
"""zoo: a plugin-based model-zoo delivery framework.

Public API for plugins (the MCNN plugin uses only these, like any third-party plugin):
``ModelSpec``, ``StageContext``, ``STAGES``, ``ModelConfig``, ``setting``, ``hookimpl``, ``ZooError``,
``load_metadata``, ``atomic_path``, ``atomic_dir``, ``atomic_write_json``, ``atomic_write_text``,
``load_mindspore``, ``progress``.
"""
from __future__ import annotations

from .config import ModelConfig, setting
from .errors import UsageError, ZooError
from .io import atomic_dir, atomic_path, atomic_write_json, atomic_write_text, sha256_file
from .metadata import ModelMetadata, load_metadata
from .model import STAGES, ModelSpec, StageContext
from .plugin import hookimpl
from .progress import progress
from .runtime.mindspore_env import load_mindspore

__all__ = [
    "STAGES", "ModelConfig", "ModelMetadata", "ModelSpec", "StageContext", "UsageError", "ZooError", "atomic_dir",
    "atomic_path", "atomic_write_json", "atomic_write_text", "hookimpl", "load_metadata", "load_mindspore",
    "progress", "setting", "sha256_file",
]
