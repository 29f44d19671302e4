# SPDX-License-Identifier: Apache-2.0
"""Registers MCNN with zoo (entry point ``zoo.plugins: mcnn = zoo_mcnn.plugin``).

Stage modules import MindSpore, so they are imported only when a stage runs: ``zoo list`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from zoo_core import DocTemplates, ModelSpec, StageContext, hookimpl, load_metadata

from .config import PRESETS, McnnConfig

ZOO_API_VERSION = 1
HERE = Path(__file__).parent
STAGES = {
    "dataset": "dataset:run_dataset",
    "network": "network:run_network",
    "train": "train:run_train",
    "eval": "evaluate:run_eval",
    "export": "export:run_export",
    "convert": "convert:run_convert",
    "infer": "infer:run_infer",
}


def _lazy(target: str):
    module, function = target.split(":")

    def stage(ctx: StageContext) -> None:
        getattr(import_module(f"{__package__}.{module}"), function)(ctx)

    stage.__name__ = function
    return stage


@hookimpl
def zoo_register_models(register) -> None:
    register(
        ModelSpec(
            name="mcnn",
            summary="MCNN multi-column CNN crowd counting (Zhang et al., CVPR 2016) on MindSpore",
            metadata=load_metadata(HERE / "metadata.yaml"),
            config_cls=McnnConfig,
            presets=PRESETS,
            stages={stage: _lazy(target) for stage, target in STAGES.items()},
            requires={"train": ("dataset",), "eval": ("dataset",), "convert": ("export",)},
            source_dir=HERE,
            distributed=("train",),
        )
    )


@hookimpl
def zoo_doc_templates(model: ModelSpec) -> DocTemplates | None:
    """MCNN's own architecture and data-format sections of the delivery README."""
    return DocTemplates(HERE / "doc_templates") if model.name == "mcnn" else None
