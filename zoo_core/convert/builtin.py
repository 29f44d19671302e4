# SPDX-License-Identifier: Apache-2.0
"""The converters zoo ships: Ascend ``atc`` (ONNX/AIR -> OM), MindSpore Lite ``converter_lite`` (MINDIR -> ms),
and two that run anywhere: ONNX graph optimisation saved offline, and an FP16 ONNX variant."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import first_line
from ..hooks import hookimpl
from ..io import atomic_path
from ..results import Conversion
from . import Converter, ConvertJob, file_parity, run_tool

ATC_FRAMEWORK = {"air": "1", "onnx": "5"}  # atc --framework codes (0 Caffe, 3 TF pb)


def _shape(job: ConvertJob) -> str:
    return f"{job.input_name}:{','.join(str(d) for d in job.input_shape)}"


def atc_command(job: ConvertJob, source_format: str, output_stem: str) -> list[str]:
    """The ``atc`` call for ``job`` (``--param=value``, no space after ``=``)."""
    return [
        "atc",
        f"--model={job.source}",
        f"--framework={ATC_FRAMEWORK[source_format]}",
        f"--output={job.output_dir / output_stem}",
        f"--soc_version={job.soc_version}",
        f"--input_shape={_shape(job)}",
        f"--input_format={job.input_format}",
        f"--precision_mode={job.precision_mode}",
        f"--log={job.log_level}",
    ]


def _atc(source_format: str, suffix: str) -> Callable[[ConvertJob], Conversion]:
    def run(job: ConvertJob) -> Conversion:
        stem = f"{job.stem}{suffix}"
        return run_tool(f"atc-{source_format}", atc_command(job, source_format, stem), job.output_dir / f"{stem}.om")

    return run


def _converter_lite(job: ConvertJob) -> Conversion:
    command = [
        "converter_lite",
        "--fmk=MINDIR",
        f"--modelFile={job.source}",
        f"--outputFile={job.output_dir / job.stem}",
        f"--inputShape={_shape(job)}",
    ]
    return run_tool("converter-lite", command, job.output_dir / f"{job.stem}.ms", "CONVERT RESULT SUCCESS:0")


def _onnx_optimize(job: ConvertJob) -> Conversion:
    import onnxruntime as ort

    target = job.output_dir / f"{job.stem}_opt.onnx"
    options = ort.SessionOptions()
    # 'extended' keeps the file portable; 'all' adds layout transforms tied to the CPU that saved it.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    with atomic_path(target, suffix=".onnx") as tmp:
        options.optimized_model_filepath = str(tmp)
        ort.InferenceSession(str(job.source), options, providers=["CPUExecutionProvider"])
    result = Conversion(
        converter="onnx-optimize",
        status="ok",
        outputs=[str(target)],
        note="onnxruntime graph optimisations (level extended) saved offline",
    )
    if job.sample is not None:
        result.parity = file_parity(target, *job.sample)
    return result


def _onnx_fp16(job: ConvertJob) -> Conversion:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    target = job.output_dir / f"{job.stem}_fp16.onnx"
    model = convert_float_to_float16(onnx.load(str(job.source)), keep_io_types=True)
    with atomic_path(target, suffix=".onnx") as tmp:
        onnx.save(model, str(tmp))
    result = Conversion(
        converter="onnx-fp16", status="ok", outputs=[str(target)], note="weights and activations in FP16, I/O FP32"
    )
    if job.sample is not None:
        try:
            result.parity = file_parity(target, *job.sample)
        except Exception as exc:  # noqa: BLE001 - onnxruntime's CPU provider lacks some FP16 kernels
            result.note += f"; parity not measured here: {type(exc).__name__}: {first_line(exc, 160)}"
    return result


BUILTIN = [
    Converter(
        "atc-onnx", "onnx", "om", "atc", "ONNX -> OM for Ascend with CANN atc (--framework=5)", _atc("onnx", "_onnx")
    ),
    Converter("atc-air", "air", "om", "atc", "AIR -> OM for Ascend with CANN atc (--framework=1)", _atc("air", "")),
    Converter(
        "converter-lite",
        "mindir",
        "ms",
        "converter_lite",
        "MINDIR -> MindSpore Lite with converter_lite",
        _converter_lite,
    ),
    Converter(
        "onnx-optimize",
        "onnx",
        "onnx",
        None,
        "ONNX -> ONNX with onnxruntime graph optimisations applied",
        _onnx_optimize,
    ),
    Converter("onnx-fp16", "onnx", "onnx", None, "ONNX -> FP16 ONNX (I/O kept FP32)", _onnx_fp16),
]


@hookimpl
def zoo_register_converters(register) -> None:
    for converter in BUILTIN:
        register(converter)
