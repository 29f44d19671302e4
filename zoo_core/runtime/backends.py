# SPDX-License-Identifier: Apache-2.0
"""Inference backends: run an exported model file on numpy inputs. Imported lazily, inside stages."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import UsageError, ZooError, did_you_mean

Predictor = Callable[[np.ndarray], np.ndarray]

#: backend name -> the exported format it runs
FORMATS = {"onnxruntime": "onnx", "mindspore": "mindir"}


def _onnxruntime(path: Path, threads: int) -> Predictor:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ZooError(f"{path}: onnxruntime cannot load it ({str(exc).splitlines()[0][:200]})") from None
    name = session.get_inputs()[0].name
    return lambda inputs: session.run(None, {name: inputs})[0]


def _mindspore(path: Path, threads: int) -> Predictor:
    from .mindspore_env import load_mindspore

    ms = load_mindspore()
    try:
        cell = ms.nn.GraphCell(ms.load(str(path)))
    except Exception as exc:
        raise ZooError(f"{path}: MindSpore cannot load it as MINDIR ({str(exc).splitlines()[0][:200]})") from None
    return lambda inputs: cell(ms.Tensor(inputs)).asnumpy()


_OPENERS = {"onnxruntime": _onnxruntime, "mindspore": _mindspore}


def open_backend(name: str, path: str | Path, threads: int = 0) -> Predictor:
    """A function running ``path`` with backend ``name``; clear errors for an unknown backend or missing file."""
    if name not in _OPENERS:
        raise UsageError(f"unknown backend '{name}'{did_you_mean(name, _OPENERS)}")
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: model file not found; run the export stage or give --set infer_model=PATH")
    return _OPENERS[name](path, threads)
