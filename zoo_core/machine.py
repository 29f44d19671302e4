# SPDX-License-Identifier: Apache-2.0
"""Facts about this machine that every run record carries, and the one switch zoo sets before a framework loads.

MindSpore 2.10's oneDNN picks a reference convolution kernel on AVX-512 CPUs (60-90x slower than its AVX2 JIT
kernel), so ``ONEDNN_MAX_CPU_ISA=AVX2`` is set before mindspore is imported on such CPUs, unless the user set it.
Check the kernel with ``ONEDNN_VERBOSE=1``: ``jit_uni_ncsp:conv+ref:any`` (slow) vs ``x64:gemm:jit`` (fast).
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata as importlib_metadata
from pathlib import Path

from pydantic import BaseModel

_PACKAGES = ("zoo", "mindspore", "numpy", "opencv-python-headless", "scipy", "onnxruntime")
ISA_VAR = "ONEDNN_MAX_CPU_ISA"
_state: dict[str, str] = {}


def proc_field(path: str, key: str) -> str | None:
    """The value of the first ``key: value`` line of a /proc file (``/proc/cpuinfo``...); None if unreadable."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags() -> set[str]:
    return set((proc_field("/proc/cpuinfo", "flags") or "").split())


def apply_isa_switch() -> None:
    """Set ``ONEDNN_MAX_CPU_ISA=AVX2`` on AVX-512 CPUs if nobody set it and no framework is imported yet."""
    if "isa_set_by" in _state:
        return
    if ISA_VAR in os.environ:
        _state["isa_set_by"] = "user"
    elif "mindspore" in sys.modules:
        _state["isa_set_by"] = "none (mindspore was imported before zoo could set it)"
    elif any(flag.startswith("avx512") for flag in cpu_flags()):
        os.environ[ISA_VAR] = "AVX2"
        _state["isa_set_by"] = "zoo"
    else:
        _state["isa_set_by"] = "none (CPU has no AVX-512)"


def isa_facts() -> dict[str, str]:
    """What the run record says about instruction-set switches."""
    flags = cpu_flags()
    return {
        ISA_VAR: os.environ.get(ISA_VAR, "(unset)"),
        "set_by": _state.get("isa_set_by", "not applied"),
        "cpu_avx512": "yes" if any(f.startswith("avx512") for f in flags) else "no",
        "cpu_avx2": "yes" if "avx2" in flags else "no",
    }


class Environment(BaseModel):
    python: str
    platform: str
    processor: str
    cores: int
    memory_gib: float | None = None
    packages: dict[str, str]
    isa: dict[str, str]
    device: str | None = None

    @classmethod
    def current(cls, runtime: dict[str, str] | None = None) -> Environment:
        runtime = dict(runtime or {})
        packages = {}
        for name in _PACKAGES:
            try:
                packages[name] = importlib_metadata.version(name)
            except importlib_metadata.PackageNotFoundError:
                pass
        return cls(
            python=platform.python_version(),
            platform=platform.platform(),
            processor=_cpu_name(),
            cores=os.cpu_count() or 1,
            memory_gib=_memory_gib(),
            packages=packages,
            isa=isa_facts(),
            device=runtime.get("device"),
        )


def _cpu_name() -> str:
    return proc_field("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    total = proc_field("/proc/meminfo", "MemTotal")  # "24576000 kB"
    return round(int(total.split()[0]) / 2**20, 1) if total else None
