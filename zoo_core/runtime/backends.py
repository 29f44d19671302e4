# SPDX-License-Identifier: Apache-2.0
"""Inference backends: run an exported model file on numpy inputs. Imported lazily, inside stages."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UsageError, ZooError, did_you_mean, first_line


@dataclass
class Predictor:
    """An opened model: call it on a float32 NCHW array. ``details`` says how the backend runs it (for records)."""

    run: Callable[[np.ndarray], np.ndarray]
    details: dict[str, object] = field(default_factory=dict)

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        return self.run(inputs)


_PROTOBUF_LIMIT = 2**31 - 1  # a model above it cannot be handed to onnxruntime as bytes; it is loaded as it is

#: backend name -> the exported format it runs
FORMATS = {"onnxruntime": "onnx", "mindspore": "mindir"}


def _onnxruntime(path: Path, threads: int, tune: bool) -> Predictor:
    import onnx
    import onnxruntime as ort

    from .onnx_blocks import block_channels, nchwc_block

    source: str | bytes = str(path)
    details: dict[str, object] = {"graph_optimization_level": "all"}
    block = nchwc_block() if tune else 0
    if block and path.stat().st_size < _PROTOBUF_LIMIT // 2:
        try:
            model = onnx.load(str(path))
        except Exception as exc:  # noqa: BLE001 - the loader's error, of any type, becomes one line
            raise ZooError(f"{path}: not a readable ONNX file ({first_line(exc, 200)})") from None
        summary = block_channels(model, block)
        if model.ByteSize() < _PROTOBUF_LIMIT:  # weights in external files can make it larger than the file
            details["channel_blocking"] = summary
            source = model.SerializeToString()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    try:
        session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - the loader's error, of any type, becomes one line
        raise ZooError(f"{path}: onnxruntime cannot load it ({first_line(exc, 200)})") from None
    name = session.get_inputs()[0].name
    details["threads"] = options.intra_op_num_threads
    return Predictor(lambda inputs: session.run(None, {name: inputs})[0], details)


def _mindspore(path: Path, threads: int, tune: bool) -> Predictor:
    from .mindspore_env import load_mindspore

    ms = load_mindspore()
    try:
        cell = ms.nn.GraphCell(ms.load(str(path)))
    except Exception as exc:  # noqa: BLE001 - the loader's error, of any type, becomes one line
        raise ZooError(f"{path}: MindSpore cannot load it as MINDIR ({first_line(exc, 200)})") from None
    return Predictor(lambda inputs: cell(ms.Tensor(inputs)).asnumpy(), {"mode": "graph"})


_OPENERS = {"onnxruntime": _onnxruntime, "mindspore": _mindspore}


def open_backend(name: str, path: str | Path, threads: int = 0, tune: bool = True) -> Predictor:
    """``path`` opened with backend ``name``; clear errors for an unknown backend or missing file.

    ``tune``: let the backend rewrite the graph exactly for speed (onnxruntime: :mod:`.onnx_blocks`).
    """
    if name not in _OPENERS:
        raise UsageError(f"unknown backend '{name}'{did_you_mean(name, _OPENERS)}")
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: model file not found; run the export stage or give --set infer_model=PATH")
    return _OPENERS[name](path, threads, tune)
