# SPDX-License-Identifier: Apache-2.0
"""Release-checklist rules on the rendered README as a whole: present, with every standard section in order, no
placeholder, numbers and text as the records give them now, links that resolve, artifacts as recorded."""

from __future__ import annotations

import re

from ..docs.markdown import broken_anchors
from ..io import sha256_file
from . import CheckContext, Problems, Rule

PLACEHOLDERS = ("xx1", "XXX", "_描述要点_", "描述要点", "not yet measured")


def readme_present(ctx: CheckContext) -> Problems:
    return [] if ctx.readmes else [("no delivery README rendered", str(ctx.workdir / "docs"), None)]


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


RULES = [
    Rule("DOC-001", "error", "delivery README present", "run `zoo render-docs MODEL`", readme_present),
    Rule(
        "ART-001",
        "error",
        "recorded artifacts exist with their sha256",
        "re-run the stage that made the file",
        artifacts_match,
    ),
    Rule(
        "DOC-002", "error", "every standard section, in order", "re-render with the core templates", sections_in_order
    ),
    Rule(
        "DOC-003",
        "error",
        "no template placeholders",
        "run the stages the README lacks, then re-render",
        no_placeholders,
    ),
    Rule(
        "DOC-004",
        "error",
        "table numbers match the records",
        "re-render; never edit numbers by hand",
        numbers_match_records,
    ),
    Rule("DOC-005", "error", "README not stale", "run `zoo render-docs MODEL`", not_stale),
    Rule("DOC-006", "error", "internal links resolve", "fix the link or the heading", anchors_resolve),
]
