# SPDX-License-Identifier: Apache-2.0
"""The README is the contract with a new user: its commands must be the ones CI and the code use."""

from __future__ import annotations

import re
from pathlib import Path

from zoo_core.plugin import spec

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def shell_blocks() -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", README, re.S)]


def test_ci_runs_the_readme_test_command():
    test_command = shell_blocks()[1]
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_main_command_installs_and_runs_the_demo():
    assert shell_blocks()[0] == (
        "pip install . && zoo run mcnn --stage all --preset demo && zoo render-docs mcnn && zoo check mcnn"
    )


def test_every_hook_is_documented():
    hooks = [name for name in dir(spec) if name.startswith("zoo_")]
    assert hooks
    for name in hooks:
        assert f"`{name}(" in README, f"hook {name} is not documented in README.md"
        assert getattr(spec, name).__doc__, f"hook {name} has no docstring"


def test_every_hook_is_in_the_plugin_author_guide():
    guide = (ROOT / "docs" / "plugins.md").read_text()
    for name in [n for n in dir(spec) if n.startswith("zoo_")]:
        assert f"### `{name}(" in guide, f"hook {name} is not documented in docs/plugins.md"


def test_the_guide_lists_the_record_contract():
    from zoo_core.records import DOC_METRICS

    guide = (ROOT / "docs" / "plugins.md").read_text()
    for stage, keys in DOC_METRICS.items():
        line = next(row for row in guide.splitlines() if row.startswith(f"| {stage} |"))
        assert all(f"`{key}`" in line for key in keys), stage
