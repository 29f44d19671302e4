# SPDX-License-Identifier: Apache-2.0
"""The export stage: a checkpoint to MINDIR and ONNX (AIR on Ascend), with numeric parity recorded.

Writes ``<workdir>/export/model/`` (replaced whole, atomically):
- ``mcnn.mindir``, ``mcnn.onnx`` (and ``mcnn.air`` on Ascend): input fixed to ``export_shape`` (1,1,1024,1024 by
  default), what ``atc`` needs for an OM and what the MindSpore models repository delivers;
- ``mcnn_dynamic.mindir``, ``mcnn_dynamic.onnx``: batch, height and width left open, so the infer stage runs images
  at their own size (multiples of 4), exactly as eval does;
- ``sample.npz``: the fixed sample input and the checkpoint's output on it, for parity checks of conversions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo_core import (
    ExportedFile,
    ExportResult,
    Parity,
    StageContext,
    TensorSpec,
    ZooError,
    atomic_dir,
    file_parity,
    load_mindspore,
    trained_checkpoint,
)

from .network import build_network, load_weights
from .synthetic import crowd_image

ms = load_mindspore()
STEM = "mcnn"
INPUT_NAME = "x"
TOLERANCE = 1e-3  # max abs error allowed between the checkpoint and an FP32 export, relative to the output's max


def sample_input(shape: list[int], seed: int = 2016) -> np.ndarray:
    """A fixed synthetic crowd image of the export shape (N copies), float32 0-255."""
    n, _, height, width = shape
    image, _ = crowd_image(np.random.default_rng(seed), max(height, width), 150)
    return np.repeat(image[None, None, :height, :width].astype(np.float32), n, axis=0)


def make_dynamic_onnx(fixed: Path, target: Path) -> None:
    """Copy of an ONNX file with batch, height and width of input and output left open.

    MindSpore 2.10 refuses to export ONNX with dynamic shapes; MCNN has only convolutions, pools, ReLU and a concat,
    so opening the declared dims is enough (and is checked by running both files in the parity step).
    """
    import onnx

    model = onnx.load(str(fixed))
    for value, names in (
        (model.graph.input[0], ("batch", "", "height", "width")),
        (model.graph.output[0], ("batch", "", "height_4", "width_4")),
    ):
        for dim, name in zip(value.type.tensor_type.shape.dim, names, strict=True):
            if name:
                dim.ClearField("dim_value")
                dim.dim_param = name
    del model.graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def _write_files(net, tmp: Path, sample: np.ndarray, device: str) -> tuple[dict[str, bool], dict[str, str]]:
    """The fixed-shape and dynamic-shape files into ``tmp``: file name -> dynamic, and format -> why skipped."""
    names = {
        f"{STEM}.mindir": False,
        f"{STEM}.onnx": False,
        f"{STEM}_dynamic.mindir": True,
        f"{STEM}_dynamic.onnx": True,
    }
    fixed, dynamic = ms.Tensor(sample), ms.Tensor(shape=[None, 1, None, None], dtype=ms.float32)
    ms.export(net, fixed, file_name=str(tmp / STEM), file_format="MINDIR")
    ms.export(net, fixed, file_name=str(tmp / STEM), file_format="ONNX")
    ms.export(net, dynamic, file_name=str(tmp / f"{STEM}_dynamic"), file_format="MINDIR")
    make_dynamic_onnx(tmp / f"{STEM}.onnx", tmp / f"{STEM}_dynamic.onnx")
    if device == "Ascend":
        ms.export(net, fixed, file_name=str(tmp / STEM), file_format="AIR")
        return names | {f"{STEM}.air": False}, {}
    return names, {
        "air": f"AIR export needs MindSpore's Ascend backend (this run: {device}); run "
        f"`zoo run mcnn --stage export` on an Ascend host for mcnn.air"
    }


def _checked_parity(tmp: Path, names: dict[str, bool], sample: np.ndarray, expected: np.ndarray) -> dict[str, Parity]:
    """Each file run on the sample; a file further from the checkpoint than TOLERANCE fails the stage."""
    parities = {name: file_parity(tmp / name, sample, expected) for name in names if not name.endswith(".air")}
    limit = TOLERANCE * max(1.0, float(np.abs(expected).max()))
    bad = {name: p for name, p in parities.items() if p.max_abs_error > limit}
    if bad:
        name, worst = next(iter(bad.items()))
        raise ZooError(
            f"exported {name} differs from the checkpoint by {worst.max_abs_error:.3g} (limit {limit:.3g}); the "
            f"export is not kept"
        )
    return parities


def run(ctx: StageContext) -> ExportResult:
    checkpoint = trained_checkpoint(ctx)
    net = build_network()
    load_weights(net, checkpoint)
    shape = list(ctx.config.export_shape)
    sample = sample_input(shape)
    expected = net(ms.Tensor(sample)).asnumpy()
    device = ms.get_context("device_target")
    final = ctx.stage_dir / "model"
    with atomic_dir(final, needed=5 * Path(checkpoint).stat().st_size) as tmp:  # 4 model files and a sample
        names, skipped = _write_files(net, tmp, sample, device)
        np.savez(tmp / "sample.npz", input=sample, expected=expected)
        parities = _checked_parity(tmp, names, sample, expected)
    for message in skipped.values():
        ctx.log.info(f"air skipped: {message}")
    for path in sorted(final.iterdir()):
        ctx.output(path)
    files = [
        ExportedFile(
            format=Path(name).suffix.lstrip("."),
            path=ctx.rel(final / name),
            size=(final / name).stat().st_size,
            dynamic=dynamic_file,
            parity=parities.get(name),
        )
        for name, dynamic_file in sorted(names.items())
    ]
    largest = max(p.max_abs_error for p in parities.values())
    ctx.log.info(
        f"exported {', '.join(sorted(names))} from {checkpoint} (input {'x'.join(map(str, shape))}); "
        f"largest difference from the checkpoint {largest:.3g}"
    )
    return ExportResult(
        input=TensorSpec(name=INPUT_NAME, shape=shape, dynamic_axes={0: "batch", 2: "height", 3: "width"}),
        files=files,
        skipped=skipped,
        sample=ctx.rel(final / "sample.npz"),
        checkpoint=ctx.rel(checkpoint),
        device=device,
    )
