# SPDX-License-Identifier: Apache-2.0
"""Registers the digits example with zoo through the public plugin API."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from zoo_core import STAGES, ModelSpec, hookimpl, load_metadata

from .config import PRESETS, DigitsConfig

ZOO_API_VERSION = 1
HERE = Path(__file__).parent


def _stage(name: str):
    def run(ctx) -> None:
        getattr(import_module(f"{__package__}.stages"), f"run_{name}")(ctx)

    return run


@hookimpl
def zoo_register_models(register) -> None:
    register(
        ModelSpec(
            name="digits",
            summary="Printed-digit classification with a small MindSpore CNN (example plugin)",
            metadata=load_metadata(HERE / "metadata.yaml"),
            config_cls=DigitsConfig,
            presets=PRESETS,
            stages={stage: _stage(stage) for stage in STAGES},
            requires={"train": ("dataset",), "eval": ("dataset",), "convert": ("export",)},
            source_dir=HERE,
        )
    )
