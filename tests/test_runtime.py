# SPDX-License-Identifier: Apache-2.0
"""Framework set-up: the numpy pin MindSpore 2.10 needs, and the oneDNN ISA switch on AVX-512 CPUs."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from zoo_core import machine


def test_numpy_pin_keeps_mindspore_pynative_reshape_working():
    """mindspore 2.10 carries parts built against NumPy 1.x: under numpy 2.x the first Tensor.reshape in a
    process raises SystemError. This is why pyproject.toml pins numpy<2; the test fails if the pin is lifted
    while the wheel still has that defect."""
    code = (
        "import numpy as np, mindspore as ms\n"
        "ms.set_context(mode=ms.PYNATIVE_MODE)\n"
        "x = ms.Tensor(np.arange(6, dtype=np.float32)).reshape(2, 3)\n"
        "assert x.shape == (2, 3)\n"
        "print(float((x * 2).sum().asnumpy()))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "SystemError" not in result.stderr and result.stdout.strip() == "30.0"
    assert int(np.__version__.split(".")[0]) < 2


def _apply(monkeypatch, flags, env=None, imported=False):
    monkeypatch.setattr(machine, "_state", {})
    monkeypatch.setattr(machine, "cpu_flags", lambda: set(flags))
    monkeypatch.delenv(machine.ISA_VAR, raising=False)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    if imported:
        monkeypatch.setitem(sys.modules, "mindspore", object())
    else:
        monkeypatch.delitem(sys.modules, "mindspore", raising=False)
    machine.apply_isa_switch()
    return os.environ.get(machine.ISA_VAR), machine._state["isa_set_by"]


def test_isa_switch_on_avx512_cpus_only(monkeypatch):
    assert _apply(monkeypatch, {"avx2", "avx512f"}) == ("AVX2", "zoo")
    assert _apply(monkeypatch, {"avx2"}) == (None, "none (CPU has no AVX-512)")


def test_isa_switch_respects_the_user_and_an_earlier_import(monkeypatch):
    assert _apply(monkeypatch, {"avx512f"}, {machine.ISA_VAR: "AVX512_CORE"}) == ("AVX512_CORE", "user")
    value, why = _apply(monkeypatch, {"avx512f"}, imported=True)
    assert value is None and "imported before zoo" in why


def test_isa_facts_go_into_records(monkeypatch):
    monkeypatch.setattr(machine, "_state", {"isa_set_by": "zoo"})
    monkeypatch.setenv(machine.ISA_VAR, "AVX2")
    facts = machine.isa_facts()
    assert facts[machine.ISA_VAR] == "AVX2" and facts["set_by"] == "zoo"
    assert facts["cpu_avx512"] in ("yes", "no")
