# SPDX-License-Identifier: Apache-2.0
"""The release checklist: rules with stable ids, severities and a one-line fix each; plugins add rules through
``zoo_register_checks(register)``. Rules read only the records, the rendered README and the plugin's sources."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning"]
Problems = list[tuple[str, str, "int | None"]]  # what a rule's check returns: (message, file, line) per problem


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    file: str
    line: int | None
    message: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckContext:
    """What rules look at. ``report(message, file, line)`` inside a rule adds a finding of that rule."""

    spec: Any  # ModelSpec
    workdir: Path
    readmes: dict[str, Path]  # lang -> README path (those that exist)
    extra_templates: Sequence[Any] = ()
    _fresh: dict[str, str | None] = field(default_factory=dict, repr=False)

    @cached_property
    def context(self) -> dict[str, Any]:
        from ..docs.context import build_context

        return build_context(self.spec, self.workdir)

    def result(self, stage: str) -> Any:
        """The typed result (``zoo_core.results``) of the latest successful run of ``stage``; None if never run."""
        return self.context["res"].get(stage)

    @cached_property
    def texts(self) -> dict[str, str]:
        return {lang: path.read_text(encoding="utf-8") for lang, path in self.readmes.items()}

    def fresh(self, lang: str) -> str | None:
        """What ``render-docs`` would write now for ``lang`` (None when records are missing); rendered once."""
        from ..docs.render import render
        from ..errors import ZooError

        if lang not in self._fresh:
            try:
                self._fresh[lang] = render(
                    self.spec,
                    self.workdir,
                    lang,
                    self.readmes.get(lang),
                    allow_missing=False,
                    extra=self.extra_templates,
                    write=False,
                ).text
            except ZooError:
                self._fresh[lang] = None
        return self._fresh[lang]


@dataclass(frozen=True)
class Rule:
    """A checklist rule. A plugin's rule judges the models of that plugin only, unless ``scope="all"``."""

    id: str
    severity: Severity
    title: str
    fix: str
    check: Callable[[CheckContext], Problems]
    scope: Literal["own", "all"] = "own"


@dataclass
class RuleResult:
    rule: Rule
    findings: list[Finding] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.findings


def select(rules: dict[str, Rule], wanted: Sequence[str]) -> list[Rule]:
    """Rules whose id equals or starts with one of ``wanted`` (all when empty); unknown ids are usage errors."""
    from ..errors import UsageError, did_you_mean

    if not wanted:
        return list(rules.values())
    chosen = []
    for item in wanted:
        matched = [r for rid, r in rules.items() if rid == item or rid.startswith(item + "-")]
        if not matched:
            raise UsageError(f"unknown check '{item}'{did_you_mean(item, rules)}")
        chosen += [r for r in matched if r not in chosen]
    return chosen


def run_checks(ctx: CheckContext, rules: Sequence[Rule], foreign: Mapping[str, str] | None = None) -> list[RuleResult]:
    """Every rule on ``ctx``. A rule that raises is a finding naming it: of its own severity, or, for a rule
    another plugin registered for all models (``foreign``: rule id -> that plugin), a warning: it never fails
    this model."""
    results = []
    foreign = foreign or {}
    for rule in rules:
        try:
            problems = rule.check(ctx)
        except Exception as exc:  # noqa: BLE001 - a broken rule is itself a finding, not a crash
            owner = f" of plugin {foreign[rule.id]}" if rule.id in foreign else ""
            problems = [(f"the rule{owner} crashed ({type(exc).__name__}: {exc}): a bug to report", "", None)]
            if rule.id in foreign:
                rule = replace(rule, severity="warning")
        results.append(
            RuleResult(
                rule,
                [Finding(rule.id, rule.severity, file, line, message, rule.fix) for message, file, line in problems],
            )
        )
    return results
