# SPDX-License-Identifier: Apache-2.0
"""DOC-007: every ``zoo run`` command the README shows is one the model accepts: its stages, presets and
``--set`` keys exist, and ``--data`` / ``--resume`` appear only where the model declares the capability."""

from __future__ import annotations

import re
import shlex

from ..errors import UsageError
from ..planning import check_capabilities, parse_stages
from . import CheckContext, Problems, Rule

COMMAND = re.compile(r"zoo run [^`\n]*")
#: The options of ``zoo run`` (``zoo_core/cli.py``; a test keeps the two alike): name -> takes a value.
RUN_OPTIONS: dict[str, bool] = {
    "--stage": True,
    "--preset": True,
    "--config": True,
    "--set": True,
    "--data": True,
    "--workdir": True,
    "--resume": False,
    "--json": False,
    "--workers": True,
    "--nodes": True,
    "--node-rank": True,
    "--master-addr": True,
    "--master-port": True,
}


def _options(words: list[str]) -> tuple[dict[str, list[str]], str | None]:
    """``--option value`` pairs of a command's words (after ``zoo run MODEL``), or the first problem."""
    found: dict[str, list[str]] = {}
    index = 0
    while index < len(words):
        name, _, inline = words[index].partition("=")
        if name not in RUN_OPTIONS:
            return found, f"'{words[index]}' is not an option of zoo run"
        takes = RUN_OPTIONS[name]
        value = inline if inline else (words[index + 1] if takes and index + 1 < len(words) else "")
        if takes and not value:
            return found, f"{name} needs a value"
        found.setdefault(name, []).append(value)
        index += 1 if inline or not takes else 2
    return found, None


def command_problem(ctx: CheckContext, command: str) -> str | None:
    """Why the model rejects ``command`` (a ``zoo run`` line), or None."""
    spec = ctx.spec
    try:
        words = shlex.split(command)[2:]
    except ValueError as exc:
        return f"cannot be read as a shell command ({exc})"
    if not words or words[0] != spec.name:
        return None  # another model's command: that model's README is checked with it
    options, problem = _options(words[1:])
    if problem:
        return problem
    if "--stage" not in options:
        return "has no --stage"
    keys = set(spec.config_cls.model_fields)
    for item in options.get("--set", []):
        key = item.partition("=")[0]
        if key not in keys:
            return f"--set {key}: '{spec.name}' has no such setting"
    for preset in options.get("--preset", []):
        if preset not in spec.presets:
            return f"--preset {preset}: '{spec.name}' has no such preset"
    try:
        plan = parse_stages(spec, options["--stage"][-1])
        check_capabilities(spec, plan, "--data" in options, "--resume" in options)
    except UsageError as exc:
        return str(exc)
    return None


def commands_accepted(ctx: CheckContext) -> Problems:
    return [
        (f"`{match.group(0).strip()}`: {problem}", str(ctx.readmes[lang]), number)
        for lang, text in ctx.texts.items()
        for number, line in enumerate(text.splitlines(), 1)
        for match in COMMAND.finditer(line.replace("\\`", "`"))  # recorded text shows its backticks escaped
        if (problem := command_problem(ctx, match.group(0).strip())) is not None
    ]


RULES = [
    Rule(
        "DOC-007",
        "error",
        "every zoo run command in the README is one the model accepts",
        "declare the capability the command needs, or change the template that shows it",
        commands_accepted,
    )
]
