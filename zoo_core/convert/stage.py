# SPDX-License-Identifier: Apache-2.0
"""The convert stage every model gets from the core: every registered converter whose input format the last
export wrote (its fixed-shape files, with their input spec and parity sample), and the files to take to an
Ascend host, from the model's :class:`~zoo_core.settings.DeliverySettings`.

Outputs: ``<workdir>/convert/models/`` (rebuilt each run: a file of an earlier run must not pass for this one's)
and ``<workdir>/convert/infer/{convert/convert_om.sh, sdk/<model>.pipeline}``. Converters whose tool (atc,
converter_lite) is missing record the exact command, and the stage ends as "needs_tool".
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..context import StageContext
from ..results import ConvertResult
from . import ConvertJob, convert_all
from .delivery import write_delivery


def run(ctx: StageContext) -> ConvertResult:
    import numpy as np

    cfg = ctx.config
    export, record = ctx.latest_result("export")
    sources = {f.format: ctx.input(ctx.workdir / f.path, record=record) for f in export.files if not f.dynamic}
    with np.load(ctx.input(ctx.workdir / export.sample, record=record)) as sample:
        reference = (sample["input"], sample["expected"])
    out = ctx.stage_dir / "models"
    if out.is_dir():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    def job(source: Path) -> ConvertJob:
        return ConvertJob(
            source=source,
            output_dir=out,
            stem=ctx.model.name,
            input_name=export.input.name,
            input_shape=tuple(export.input.shape),
            input_format=export.input.layout,
            soc_version=getattr(cfg, "soc_version", "Ascend310"),
            precision_mode=getattr(cfg, "precision_mode", "force_fp16"),
            log_level=getattr(cfg, "atc_log", "error"),
            sample=reference,
        )

    conversions = convert_all(ctx, sources, job, getattr(cfg, "converters", ()))
    delivery = write_delivery(ctx.stage_dir / "infer", job(Path(f"{ctx.model.name}.air")), ctx.model.name)
    ctx.outputs.extend(delivery)
    ctx.log.info(f"delivery scripts: {ctx.stage_dir / 'infer'}/convert/convert_om.sh, sdk/{ctx.model.name}.pipeline")
    request = job(Path("."))
    settings = {
        "input": f"{request.input_name}:{','.join(map(str, request.input_shape))}",
        "input_format": request.input_format,
        "soc_version": request.soc_version,
        "precision_mode": request.precision_mode,
        "log": request.log_level,
    }
    return ConvertResult(conversions=conversions, settings=settings, delivery=[ctx.rel(p) for p in delivery])
