# SPDX-License-Identifier: Apache-2.0
"""The convert stage: every registered converter whose input format was exported, plus the delivery scripts.

Outputs go to ``<workdir>/convert/models/`` and ``<workdir>/convert/infer/{convert/convert_om.sh,
sdk/mcnn.pipeline}``. Converters whose tool (atc, converter_lite) is missing record the exact command instead,
and the stage ends as "needs_tool".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from zoo_core import ConvertJob, StageContext, convert_all, write_delivery

from .export import STEM


def run_convert(ctx: StageContext) -> None:
    cfg = ctx.config
    export = ctx.latest("export")
    formats = export.metrics["formats"]
    sources = {
        fmt: ctx.input(ctx.workdir / path, record=export)
        for fmt, path in formats.items()
        if not fmt.endswith("_dynamic")
    }
    with np.load(ctx.input(ctx.workdir / export.metrics["sample"], record=export)) as sample:
        reference = (sample["input"], sample["expected"])
    out = ctx.stage_dir / "models"
    if out.is_dir():
        shutil.rmtree(out)  # outputs of an earlier run must not pass for this run's
    out.mkdir(parents=True)

    def job(source: Path) -> ConvertJob:
        return ConvertJob(
            source=source,
            output_dir=out,
            stem=STEM,
            input_name=export.metrics["input_name"],
            input_shape=tuple(export.metrics["input_shape"]),
            soc_version=cfg.soc_version,
            precision_mode=cfg.precision_mode,
            log_level=cfg.atc_log,
            sample=reference,
        )

    convert_all(ctx, sources, job, cfg.converters)
    delivery = write_delivery(ctx.stage_dir / "infer", job(Path(f"{STEM}.air")), STEM)
    ctx.outputs.extend(delivery)
    ctx.metrics["delivery"] = [str(path.relative_to(ctx.workdir)) for path in delivery]
    ctx.log.info(f"delivery scripts: {ctx.stage_dir / 'infer'}/convert/convert_om.sh, sdk/{STEM}.pipeline")
