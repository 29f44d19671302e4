# SPDX-License-Identifier: Apache-2.0
"""Release-checklist rules on the README's basic-information fields and the metadata behind them: version, date,
sizes, framework, formats, precision, processors, category, description and commit ids."""

from __future__ import annotations

import datetime as dt
import re
from typing import get_args

from ..docs.context import size_label
from ..metadata import Category, ModelFormat, Processor
from . import CheckContext, Problems, Rule

FIELD = re.compile(r"^\*\*(?P<label>[^*]+)\*\*(?:：|: )(?P<value>.*)$")
SENTENCE_END = re.compile(r"[.!?。！？](?=\s|$)")


def fields(ctx: CheckContext) -> list[tuple[str, str, str, int]]:
    """(lang, English label, value, line) of each ``**label**：value`` line of the READMEs."""
    found = []
    for lang, text in ctx.texts.items():
        for number, line in enumerate(text.splitlines(), 1):
            match = FIELD.match(line)
            if match:
                english = re.sub(r".*（(.*)）", r"\1", match.group("label")).strip()
                found.append((lang, english, match.group("value").strip(), number))
    return found


def field_rule(label: str, test):
    def check(ctx: CheckContext) -> Problems:
        problems: Problems = []
        seen = set()
        for lang, english, value, line in fields(ctx):
            if english == label:
                seen.add(lang)
                message = test(value, ctx)
                if message:
                    problems.append((f"{label} '{value}': {message}", str(ctx.readmes[lang]), line))
        problems += [(f"no {label} field", str(path), None) for lang, path in ctx.readmes.items() if lang not in seen]
        return problems

    return check


def _modified(value: str, ctx) -> str | None:
    if not re.fullmatch(r"\d{4}\.\d{1,2}\.\d{1,2}", value):
        return "must be YYYY.M.D, e.g. 2020.12.4"
    try:
        dt.date(*(int(p) for p in value.split(".")))
    except ValueError:
        return "is not a calendar date"
    return None


def _size(value: str, ctx) -> str | None:
    artifacts = ctx.context["artifacts"]
    parts = [p.strip() for p in value.split("/")]
    declared = {}
    for part in parts:
        match = re.fullmatch(r"(\d+(?:\.\d+)?)([KM]) \((\w+)\)", part)
        if not match:
            return f"'{part}' is not 'NNK (format)' or 'NNM (format)'"
        declared[match.group(3)] = match.group(1) + match.group(2)
    for fmt, size in declared.items():
        if fmt not in artifacts:
            return f"names {fmt}, but no {fmt} artifact is recorded"
        if size != size_label(artifacts[fmt]["size"]):
            return f"says {size} for {fmt}, the recorded file is {size_label(artifacts[fmt]['size'])}"
    return None


def _formats(value: str, ctx) -> str | None:
    allowed = set(get_args(ModelFormat))
    formats = [f.strip() for f in value.split("/")]
    bad = [f for f in formats if f not in allowed]
    if bad:
        return f"unknown format(s) {bad}; allowed: {', '.join(sorted(allowed))}"
    missing = [f for f in formats if f not in ctx.context["artifacts"]]
    return f"no recorded artifact for {missing}" if missing else None


def _description(value: str, ctx) -> str | None:
    count = len(SENTENCE_END.findall(value))
    return None if count <= 1 and value else f"must be one sentence, found {count}"


def _category(value: str, ctx) -> str | None:
    if value not in get_args(Category):
        return f"must be one of {', '.join(get_args(Category))}"
    return None


def category_backed(ctx: CheckContext) -> Problems:
    """Benchmark/Official claim a speed-up over a baseline that no zoo record measures; Released claims the whole
    train -> eval -> export -> infer flow."""
    category = ctx.spec.metadata.category
    records = ctx.context["recorded"]
    where = str(ctx.spec.source_dir / "metadata.yaml") if ctx.spec.source_dir else "metadata"
    if category in ("Benchmark", "Official"):
        return [
            (
                f"category {category} needs a recorded speed-up over the baseline (Benchmark: 32-card >= 1.8x, "
                f"Official: single-card >= 1.2x); no run records one",
                where,
                None,
            )
        ]
    if category == "Released":
        missing = [s for s in ("train", "eval", "export", "infer") if s not in records]
        if missing:
            return [(f"category Released needs successful {', '.join(missing)} records", where, None)]
    return []


def _version(value: str, ctx) -> str | None:
    return None if re.fullmatch(r"\d+\.\d+", value) else "must be major.minor, e.g. 1.1 or 1.15"


def _framework(value: str, ctx) -> str | None:
    return None if re.fullmatch(r"[A-Za-z]+ \d+(\.\d+){1,3}", value) else "must name the framework and its version"


def _precision(value: str, ctx) -> str | None:
    ok = re.fullmatch(r"(FP32|FP16|Mixed)(/(FP32|FP16|Mixed))?", value)
    return None if ok else "must be FP32, FP16, Mixed or a train/infer pair such as Mixed/FP16"


def _processor(value: str, ctx) -> str | None:
    allowed = set(get_args(Processor)) | {"昇腾910", "昇腾310"}
    bad = [p for p in value.split("/") if p not in allowed]
    return f"unknown processor(s) {bad}" if bad else None


def commit_ids(ctx: CheckContext) -> Problems:
    return [
        (f"commit_id '{m.group(1)}' is not 40 hex digits", str(ctx.readmes[lang]), n)
        for lang, text in ctx.texts.items()
        for n, line in enumerate(text.splitlines(), 1)
        for m in [re.search(r"commit_id=(\S*)", line)]
        if m and not re.fullmatch(r"[0-9a-f]{40}", m.group(1))
    ]


RULES = [
    Rule(
        "META-001",
        "error",
        "Version is major.minor",
        'set version: "1.1" in the metadata',
        field_rule("Version", _version),
    ),
    Rule(
        "META-002",
        "error",
        "Modified is YYYY.M.D",
        'set modified: "2020.12.4" in the metadata',
        field_rule("Modified", _modified),
    ),
    Rule(
        "META-003",
        "error",
        "Size follows xxK/xxM and matches the recorded files",
        "re-render the README",
        field_rule("Size", _size),
    ),
    Rule(
        "META-004",
        "error",
        "Framework names its version",
        "re-render the README (framework version from records)",
        field_rule("Framework", _framework),
    ),
    Rule(
        "META-005",
        "error",
        "Model Format lists recorded formats only",
        "re-render after export/convert",
        field_rule("Model Format", _formats),
    ),
    Rule(
        "META-006",
        "error",
        "Precision is FP32/FP16/Mixed",
        "set precision in the metadata",
        field_rule("Precision", _precision),
    ),
    Rule(
        "META-007",
        "error",
        "Processor is a known processor",
        "set processors in the metadata",
        field_rule("Processor", _processor),
    ),
    Rule(
        "META-008",
        "error",
        "Categories is a known category",
        "set category in the metadata",
        field_rule("Categories", _category),
    ),
    Rule(
        "META-009",
        "error",
        "Description is one sentence",
        "shorten description in the metadata",
        field_rule("Description", _description),
    ),
    Rule("META-010", "error", "commit ids are 40 hex digits", "use full git commit ids in the metadata", commit_ids),
    Rule(
        "CAT-001",
        "error",
        "category claim backed by records",
        "claim Research, or record what the category needs",
        category_backed,
    ),
]
