# SPDX-License-Identifier: Apache-2.0
"""zoo's own release-checklist rules (notes/checklist_rules.md), registered through ``zoo_register_checks``."""

from __future__ import annotations

import datetime as dt
import re
from typing import get_args

from ..docs.context import size_label
from ..docs.markdown import broken_anchors
from ..io import sha256_file
from ..metadata import Category, ModelFormat, Processor
from ..plugin import hookimpl
from . import CheckContext, Problems, Rule
from .sources import IP_URL, PERSONAL, SECRET, entry_scripts, junk_files, license_headers, scan

FIELD = re.compile(r"^\*\*(?P<label>[^*]+)\*\*(?:：|: )(?P<value>.*)$")
PLACEHOLDERS = ("xx1", "XXX", "_描述要点_", "描述要点", "not yet measured")
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


def artifacts_match(ctx: CheckContext) -> Problems:
    problems: Problems = []
    for fmt, art in ctx.context["artifacts"].items():
        path = ctx.workdir / art["path"]
        if not path.is_file():
            problems.append((f"{fmt} artifact {art['path']} recorded by {art['stage']} is missing", str(path), None))
        elif path.stat().st_size != art["size"] or sha256_file(path) != art["sha256"]:
            problems.append(
                (f"{fmt} artifact changed since the {art['stage']} run recorded it (size/sha256)", str(path), None)
            )
    if not ctx.context["artifacts"]:
        problems.append(("no model artifacts are recorded", str(ctx.workdir), None))
    return problems


def _headings(text: str) -> list[tuple[str, int]]:
    return [(line[3:].strip(), n) for n, line in enumerate(text.splitlines(), 1) if line.startswith("## ")]


def sections_in_order(ctx: CheckContext) -> Problems:
    from ..docs.render import SECTIONS, section_strings

    strings = section_strings()
    problems: Problems = []
    for lang, text in ctx.texts.items():
        wanted = [strings[name][lang] for name in SECTIONS]
        present = [h for h, _ in _headings(text)]
        missing = [w for w in wanted if w not in present]
        if missing:
            problems.append((f"missing section(s): {', '.join(missing)}", str(ctx.readmes[lang]), None))
        order = [present.index(w) for w in wanted if w in present]
        if order != sorted(order):
            problems.append(
                ("sections are out of the standard order: " + ", ".join(wanted), str(ctx.readmes[lang]), None)
            )
    return problems


def no_placeholders(ctx: CheckContext) -> Problems:
    return [
        (f"placeholder '{word}' left in the README", str(ctx.readmes[lang]), n)
        for lang, text in ctx.texts.items()
        for n, line in enumerate(text.splitlines(), 1)
        for word in PLACEHOLDERS
        if word in line
    ]


def _table_numbers(text: str) -> dict[tuple[str, str], tuple[list[str], int]]:
    """Numbers of each table row, keyed by (section heading, first cell), with the row's line number."""
    rows: dict[tuple[str, str], tuple[list[str], int]] = {}
    heading = ""
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            heading = line.lstrip("# ").strip()
        elif line.startswith("|") and not line.startswith("| ---"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
            rows[(heading, cells[0])] = (re.findall(r"\d+(?:\.\d+)?(?:e-?\d+)?", " ".join(cells[1:])), n)
    return rows


def numbers_match_records(ctx: CheckContext) -> Problems:
    problems: Problems = []
    for lang, text in ctx.texts.items():
        fresh = ctx.fresh(lang)
        if fresh is None:
            problems.append(
                (
                    "records are missing, so the README's numbers cannot be backed: run the stages render-docs names",
                    str(ctx.readmes[lang]),
                    None,
                )
            )
            continue
        expected = _table_numbers(fresh)
        for key, (numbers, line) in _table_numbers(text).items():
            if key not in expected:
                if numbers:
                    problems.append(
                        (
                            f"table row '{key[1]}' in '{key[0]}' has numbers no record gives",
                            str(ctx.readmes[lang]),
                            line,
                        )
                    )
            elif numbers != expected[key][0]:
                problems.append(
                    (
                        f"'{key[1]}' in '{key[0]}' says {' '.join(numbers)}; the records give "
                        f"{' '.join(expected[key][0])}",
                        str(ctx.readmes[lang]),
                        line,
                    )
                )
    return problems


def not_stale(ctx: CheckContext) -> Problems:
    problems: Problems = []
    for lang, text in ctx.texts.items():
        fresh = ctx.fresh(lang)
        if fresh is not None and fresh != text:
            problems.append(("differs from what the records give now", str(ctx.readmes[lang]), None))
    return problems


def anchors_resolve(ctx: CheckContext) -> Problems:
    return [
        (f"link #{anchor} matches no heading", str(ctx.readmes[lang]), None)
        for lang, text in ctx.texts.items()
        for anchor in broken_anchors(text)
    ]


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


def readme_present(ctx: CheckContext) -> Problems:
    return [] if ctx.readmes else [("no delivery README rendered", str(ctx.workdir / "docs"), None)]


R = Rule
BUILTIN = [
    R("DOC-001", "error", "delivery README present", "run `zoo render-docs MODEL`", readme_present),
    R(
        "META-001",
        "error",
        "Version is major.minor",
        'set version: "1.1" in the metadata',
        field_rule("Version", _version),
    ),
    R(
        "META-002",
        "error",
        "Modified is YYYY.M.D",
        'set modified: "2020.12.4" in the metadata',
        field_rule("Modified", _modified),
    ),
    R(
        "META-003",
        "error",
        "Size follows xxK/xxM and matches the recorded files",
        "re-render the README",
        field_rule("Size", _size),
    ),
    R(
        "META-004",
        "error",
        "Framework names its version",
        "re-render the README (framework version from records)",
        field_rule("Framework", _framework),
    ),
    R(
        "META-005",
        "error",
        "Model Format lists recorded formats only",
        "re-render after export/convert",
        field_rule("Model Format", _formats),
    ),
    R(
        "META-006",
        "error",
        "Precision is FP32/FP16/Mixed",
        "set precision in the metadata",
        field_rule("Precision", _precision),
    ),
    R(
        "META-007",
        "error",
        "Processor is a known processor",
        "set processors in the metadata",
        field_rule("Processor", _processor),
    ),
    R(
        "META-008",
        "error",
        "Categories is a known category",
        "set category in the metadata",
        field_rule("Categories", _category),
    ),
    R(
        "META-009",
        "error",
        "Description is one sentence",
        "shorten description in the metadata",
        field_rule("Description", _description),
    ),
    R("META-010", "error", "commit ids are 40 hex digits", "use full git commit ids in the metadata", commit_ids),
    R(
        "CAT-001",
        "error",
        "category claim backed by records",
        "claim Research, or record what the category needs",
        category_backed,
    ),
    R(
        "ART-001",
        "error",
        "recorded artifacts exist with their sha256",
        "re-run the stage that made the file",
        artifacts_match,
    ),
    R("DOC-002", "error", "every standard section, in order", "re-render with the core templates", sections_in_order),
    R(
        "DOC-003",
        "error",
        "no template placeholders",
        "run the stages the README lacks, then re-render",
        no_placeholders,
    ),
    R(
        "DOC-004",
        "error",
        "table numbers match the records",
        "re-render; never edit numbers by hand",
        numbers_match_records,
    ),
    R("DOC-005", "error", "README not stale", "run `zoo render-docs MODEL`", not_stale),
    R("DOC-006", "error", "internal links resolve", "fix the link or the heading", anchors_resolve),
    R("SRC-001", "error", "no junk or files >= 2 MiB in the plugin", "remove run outputs and binaries", junk_files),
    R(
        "SRC-002",
        "error",
        "license header in every source file",
        "add '# SPDX-License-Identifier: Apache-2.0'",
        license_headers,
    ),
    R(
        "SRC-003",
        "error",
        "no personal paths",
        "use relative paths or placeholders",
        lambda ctx: scan(ctx, PERSONAL, "personal path"),
    ),
    R(
        "SRC-004",
        "error",
        "no IP-address URLs",
        "use host names documented in the README",
        lambda ctx: scan(ctx, IP_URL, "IP URL"),
    ),
    R(
        "SRC-005",
        "error",
        "no secrets",
        "remove the secret; read it from the environment",
        lambda ctx: scan(ctx, SECRET, "secret"),
    ),
    R(
        "SRC-006",
        "error",
        "entry scripts do not export PATH-like variables",
        "move set-up to the README",
        entry_scripts,
    ),
]


@hookimpl
def zoo_register_checks(register) -> None:
    for rule in BUILTIN:
        register(rule)
