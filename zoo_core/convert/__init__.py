# SPDX-License-Identifier: Apache-2.0
"""Model converters: one registry, extended by plugins through ``zoo_register_converters(register)``.

A converter turns one model format into another (``onnx`` -> ``om``, ``mindir`` -> ``ms``...). It declares the
external tool it needs; when the tool is missing, it returns the exact command a user would run on a host that
has it, with status ``needs_tool`` (never reported as success).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..interrupts import child_setup
from ..results import Conversion, Parity

if TYPE_CHECKING:  # numpy is imported where it is used: the `zoo` command starts no thread before it handles signals
    import numpy as np

    from ..context import StageContext


@dataclass(frozen=True)
class ConvertJob:
    """What a converter gets: the source file, where to write, and the model's conversion settings."""

    source: Path
    output_dir: Path
    stem: str  # output file name without suffix, e.g. "mcnn"
    input_name: str
    input_shape: tuple[int, ...]
    input_format: str = "NCHW"
    soc_version: str = "Ascend310"
    precision_mode: str = "force_fp16"
    log_level: str = "error"
    sample: tuple[np.ndarray, np.ndarray] | None = None  # (input, expected output) for parity checks


@dataclass(frozen=True)
class Converter:
    name: str
    source_format: str
    target_format: str
    tool: str | None  # external program it needs on PATH, or None if it runs in-process
    description: str
    run: Callable[[ConvertJob], Conversion]  # paths in the Conversion: as the converter wrote them


def run_tool(name: str, command: Sequence[str], expected: Path, success_marker: str | None = None) -> Conversion:
    """Run an external converter if it is on PATH; otherwise return the command for a host that has it."""
    if shutil.which(command[0]) is None:
        return Conversion(
            converter=name,
            status="needs_tool",
            command=list(command),
            note=f"needs {command[0]}: not on PATH here; run the command on a host that has it",
        )
    proc = subprocess.run(list(command), capture_output=True, text=True, preexec_fn=child_setup)
    output = (proc.stdout + proc.stderr).strip()
    ok = proc.returncode == 0 and expected.is_file() and (success_marker is None or success_marker in output)
    if not ok:
        tail = output.splitlines()[-1] if output else f"exit code {proc.returncode}"
        return Conversion(converter=name, status="failed", command=list(command), note=f"{command[0]} failed: {tail}")
    return Conversion(converter=name, status="ok", outputs=[str(expected)], command=list(command))


def parity(expected: np.ndarray, actual: np.ndarray) -> Parity:
    """How far ``actual`` lies from ``expected``: the largest absolute difference, also relative to the largest
    magnitude of ``expected``."""
    import numpy as np

    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    error = float(np.abs(expected - actual).max())
    scale = float(np.abs(expected).max())
    return Parity(max_abs_error=error, relative_error=error / scale if scale > 0 else error)


def file_parity(path: Path, inputs: np.ndarray, expected: np.ndarray) -> Parity:
    """:func:`parity` of an exported or converted file as delivered: run on ``inputs`` by the backend of its format
    (``.onnx``: onnxruntime, ``.mindir``: MindSpore), without the in-memory rewrite a backend makes for speed."""
    from ..errors import ZooError
    from ..runtime.backends import FORMATS, open_backend

    backends = {fmt: name for name, fmt in FORMATS.items()}
    fmt = Path(path).suffix.lstrip(".")
    if fmt not in backends:
        raise ZooError(f"{path}: no backend runs .{fmt} files here (known: {', '.join(backends)})")
    return parity(expected, open_backend(backends[fmt], path, tune=False)(inputs))


def convert_all(
    ctx: StageContext, sources: Mapping[str, Path], job: Callable[[Path], ConvertJob], wanted: Sequence[str] = ()
) -> list[Conversion]:
    """Run every registered converter (or those named in ``wanted``) whose source format is in ``sources``.

    Missing tools make the stage "needs_tool" with the command recorded; a converter that fails is an error after
    the others have run. Output paths come back relative to the work directory; outputs go to the record.
    """
    from ..errors import UsageError, ZooError, did_you_mean

    for name in wanted:
        if name not in ctx.converters:
            raise UsageError(f"unknown converter '{name}'{did_you_mean(name, ctx.converters)}")
    results = []
    chosen = [ctx.converters[name] for name in wanted] if wanted else list(ctx.converters.values())
    for converter in chosen:
        if converter.source_format not in sources:
            note = f"no {converter.source_format} file was exported"
            results.append(Conversion(converter=converter.name, status="skipped", note=note))
            ctx.log.info(f"{converter.name}: skipped, {note}")
            continue
        result = converter.run(job(sources[converter.source_format]))
        ctx.outputs.extend(Path(p) for p in result.outputs)
        results.append(result.model_copy(update={"outputs": [ctx.rel(p) for p in result.outputs]}))
        if result.status == "needs_tool" and converter.tool:
            ctx.need(converter.tool, " ".join(result.command or []))
        else:
            parity_note = f", max abs error {result.parity.max_abs_error:.3g}" if result.parity else ""
            ctx.log.info(
                f"{converter.name}: {result.status}" + (f" ({result.note})" if result.note else "") + parity_note
            )
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise ZooError(f"converter {failed[0].converter} failed: {failed[0].note}")
    return results
