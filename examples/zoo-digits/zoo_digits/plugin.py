# SPDX-License-Identifier: Apache-2.0
"""Registers the digits example with zoo through the public plugin API: one spec."""

from __future__ import annotations

from pathlib import Path

from zoo_core import Metric, ModelSpec, hookimpl, load_metadata

from .config import PRESETS, DigitsConfig

ZOO_API_VERSION = 2
HERE = Path(__file__).parent
STAGES = ("dataset", "network", "train", "eval", "export")  # convert: the core's
ACCURACY = Metric(key="top1_accuracy", en="Top-1 accuracy", zh="Top-1 准确率", better="higher", primary=True)


@hookimpl
def zoo_register_models(register) -> None:
    register(
        ModelSpec(
            name="digits",
            summary="Printed-digit classification with a small MindSpore CNN (example plugin)",
            metadata=load_metadata(HERE / "metadata.yaml"),
            config_cls=DigitsConfig,
            presets=PRESETS,
            stages={stage: f"zoo_digits.stages:run_{stage}" for stage in STAGES} | {"infer": "zoo_digits.infer:run"},
            metrics=(ACCURACY,),
            capabilities={"infer_data", "resume", "fine_tune"},
            source_dir=HERE,
        )
    )
