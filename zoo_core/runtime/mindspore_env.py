# SPDX-License-Identifier: Apache-2.0
"""Import MindSpore once, set up for this machine: ISA switch first, graph mode, device from what is installed."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from types import ModuleType

from ..errors import ZooError
from ..machine import apply_isa_switch
from . import FRAMEWORK_LOG

_facts: dict[str, str] = {}


def detect_device() -> str:
    """``ZOO_DEVICE`` if set; Ascend when the CANN toolkit is installed; GPU when nvidia-smi is; else CPU."""
    wanted = os.environ.get("ZOO_DEVICE")
    if wanted:
        if wanted not in ("CPU", "GPU", "Ascend"):
            raise ZooError(f"ZOO_DEVICE={wanted!r}: must be CPU, GPU or Ascend")
        return wanted
    toolkit = os.environ.get("ASCEND_HOME_PATH") or "/usr/local/Ascend/ascend-toolkit"
    if Path(toolkit).is_dir():
        return "Ascend"
    if shutil.which("nvidia-smi"):
        return "GPU"
    return "CPU"


class _Forward(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(FRAMEWORK_LOG).handle(record)


def _route_python_log(mindspore: ModuleType) -> None:
    """MindSpore's Python logger (``ME.mindspore.log.<pid>``) to the stage log instead of the console: a failed
    checkpoint write, say, is then the runner's one line on the console, with MindSpore's words in the log."""
    try:
        logger = mindspore.log._get_logger()  # the logger MindSpore's own modules use
    except AttributeError:  # a MindSpore without it: its messages stay on the console
        return
    for handler in list(logger.handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            logger.removeHandler(handler)
    logger.addHandler(_Forward())


def load_mindspore(mode: str = "graph") -> ModuleType:
    """Return the ``mindspore`` module, configured once per process (graph mode unless ``mode='pynative'``)."""
    apply_isa_switch()
    os.environ.setdefault("GLOG_v", "3")  # MindSpore's C++ log: errors only, unless the user asked for more
    try:
        import mindspore
    except ImportError as exc:
        raise ZooError(f"mindspore is not installed ({exc}): pip install mindspore") from None
    if not _facts:
        device = detect_device()
        mindspore.set_context(mode=mindspore.GRAPH_MODE if mode == "graph" else mindspore.PYNATIVE_MODE)
        mindspore.set_device(device)
        _route_python_log(mindspore)
        _facts.update(device=device, mode=mode, mindspore=mindspore.__version__)
    return mindspore


def runtime_facts() -> dict[str, str]:
    """Device, execution mode and version of the framework this process set up (empty if none was)."""
    return dict(_facts)
