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


GUIDE = (ROOT / "docs" / "plugins.md").read_text()


def _section(heading: str) -> str:
    start = GUIDE.index(f"### `{heading}`\n")
    return GUIDE[start : GUIDE.find("\n### ", start + 1)]


def _exists(reference: str) -> bool:
    """``tests/test_x.py::test_name`` names a test function of this suite."""
    path, _, name = reference.partition("::")
    return (ROOT / path).is_file() and f"def {name}(" in (ROOT / path).read_text()


def test_the_guide_documents_every_typed_result_with_its_fields_and_a_test():
    from zoo_core.results import RESULT_TYPES

    for result in RESULT_TYPES.values():
        section = _section(result.__name__)
        missing = [f for f in result.model_fields if f != "stage" and f"`{f}`" not in section]
        assert not missing, f"{result.__name__}: fields {missing} are not in docs/plugins.md"
        references = re.findall(r"Checked by\s+`([^`]+)`", section)
        assert references and all(_exists(r) for r in references), (result.__name__, references)


def test_the_guide_documents_every_capability_and_metric_field_with_a_test():
    from zoo_core.model import CAPABILITIES
    from zoo_core.results import Metric

    for capability in CAPABILITIES:
        row = next(line for line in GUIDE.splitlines() if line.startswith(f"| `{capability}` |"))
        reference = row.rstrip(" |").rsplit("`", 2)[-2]
        assert _exists(reference), (capability, reference)
    assert all(f"`{name}`" in GUIDE or f"{name}=" in GUIDE for name in Metric.model_fields)
    assert _exists("tests/test_contract.py::test_the_train_result_and_plot_follow_the_declared_metrics")
