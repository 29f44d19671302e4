# SPDX-License-Identifier: Apache-2.0
"""Which model file an infer stage runs, for every model alike: ``infer_model`` if the user gave one, else the
last export's file for the configured backend (its dynamic-shape copy where there is one), checked against the
export's record, opened with that backend (:func:`zoo_core.runtime.backends.open_backend`)."""

from __future__ import annotations

from pathlib import Path

from .context import StageContext
from .errors import ZooError
from .runtime.backends import FORMATS, Predictor, open_backend


def inference_model(ctx: StageContext) -> tuple[Path, Predictor]:
    """The file to run and a predictor over it (a callable on a float32 array; ``details`` say how it runs)."""
    cfg = ctx.config
    backend = getattr(cfg, "backend", "onnxruntime")
    if getattr(cfg, "infer_model", None):
        path = ctx.input(cfg.infer_model)
    else:
        export, record = ctx.latest_result("export")
        exported = export.file(FORMATS[backend], dynamic=True)
        if exported is None:
            raise ZooError(
                f"the export run {record.run_id} wrote no {FORMATS[backend]} file for the {backend} backend; choose "
                f"another with --set backend=..., or give --set infer_model=FILE"
            )
        path = ctx.input(ctx.workdir / exported.path, record=record)
    return path, open_backend(backend, path, getattr(cfg, "threads", 0))
