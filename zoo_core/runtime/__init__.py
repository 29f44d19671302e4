# SPDX-License-Identifier: Apache-2.0
"""Frameworks and backends: MindSpore set-up (``mindspore_env``), inference backends, the ONNX channel-blocking
rewrite, data-parallel launches on msrun. The ISA switch they rely on lives in :mod:`zoo_core.machine`."""

from __future__ import annotations

FRAMEWORK_LOG = "zoo.framework"  # frameworks' own Python log lines go here; the runner sends them to the stage log

__all__ = ["FRAMEWORK_LOG"]
