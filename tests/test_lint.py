# SPDX-License-Identifier: Apache-2.0
"""The code stays linted, formatted and type-checked (rules in pyproject.toml): ruff and mypy run with the tests,
so `.ci/run`, which runs the README's test command, runs them too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_code_passes(command):
    result = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_every_package_of_the_core_is_installed():
    """`pip install .` (the README's main command) installs the packages pyproject.toml lists: a new one missing
    there works in an editable install and fails in a real one."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "zoo_core").rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
