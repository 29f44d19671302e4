# SPDX-License-Identifier: Apache-2.0
"""Registers MCNN with zoo (entry point ``zoo.plugins: mcnn = zoo_mcnn.plugin``): one spec.

Stages are named as ``module:function`` and imported only when they run (they import MindSpore), so ``zoo list``
stays fast. The convert stage is the core's, over MCNN's typed export result.
"""

from __future__ import annotations

from pathlib import Path

from zoo_core import Metric, ModelSpec, hookimpl, load_metadata

from .config import PRESETS, McnnConfig

ZOO_API_VERSION = 2
HERE = Path(__file__).parent
METRICS = (
    Metric(key="mae", en="MAE", zh="平均绝对误差（MAE）", better="lower", primary=True),
    Metric(key="mse", en="MSE", zh="均方误差（MSE）", better="lower"),
)


@hookimpl
def zoo_register_models(register) -> None:
    register(
        ModelSpec(
            name="mcnn",
            summary="MCNN multi-column CNN crowd counting (Zhang et al., CVPR 2016) on MindSpore",
            metadata=load_metadata(HERE / "metadata.yaml"),
            config_cls=McnnConfig,
            presets=PRESETS,
            stages={stage: f"zoo_mcnn.{stage}:run" for stage in ("dataset", "network", "train", "export", "infer")}
            | {"eval": "zoo_mcnn.evaluate:run"},
            metrics=METRICS,
            capabilities=frozenset({"user_data", "infer_data", "resume", "fine_tune", "freeze", "infer_images"}),
            source_dir=HERE,
            doc_templates=HERE / "doc_templates",
            distributed=("train",),
        )
    )
