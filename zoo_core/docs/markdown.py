# SPDX-License-Identifier: Apache-2.0
"""Markdown helpers of the doc renderer: escaping of metadata text, generated regions, anchor checks."""

from __future__ import annotations

import re
from urllib.parse import unquote

from markupsafe import Markup

_ESCAPE = str.maketrans(
    {
        "|": "\\|",
        "<": "&lt;",
        ">": "&gt;",
        "{": "&#123;",
        "}": "&#125;",
        "`": "\\`",
        "\n": " ",
        "\r": " ",
        "[": "\\[",
        "]": "\\]",
    }
)
BEGIN = "<!-- zoo:begin {} -->"
END = "<!-- zoo:end {} -->"
_REGION = re.compile(r"<!-- zoo:begin (?P<name>[\w-]+) -->\n.*?<!-- zoo:end (?P=name) -->", re.S)


def escape(value: object) -> str:
    """Text from metadata or records made inert in Markdown: no table breaks, HTML or template syntax."""
    if isinstance(value, Markup):
        return str(value)
    return str(value).translate(_ESCAPE)


def merge_regions(rendered: str, existing: str | None) -> str:
    """Put freshly rendered generated regions into an existing README, keeping hand-written text around them.

    Regions of the existing file are replaced by name; regions it lacks are appended in rendered order.
    """
    if not existing:
        return rendered
    fresh = {m.group("name"): m.group(0) for m in _REGION.finditer(rendered)}
    seen: set[str] = set()

    def replace(match: re.Match) -> str:
        seen.add(match.group("name"))
        return fresh.get(match.group("name"), match.group(0))

    merged = _REGION.sub(replace, existing)
    missing = [region for name, region in fresh.items() if name not in seen]
    return merged.rstrip("\n") + ("\n\n" + "\n\n".join(missing) if missing else "") + "\n"


def slug(text: str) -> str:
    """The anchor GitHub (and markdown-it-py's anchors plugin) gives a heading."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower(), flags=re.UNICODE)
    return text.replace(" ", "-")


def broken_anchors(markdown: str) -> list[str]:
    """Internal ``(#anchor)`` links that match no heading, found with markdown-it-py's parse."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(markdown)
    anchors: set[str] = set()
    links: list[str] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            anchors.add(slug(tokens[index + 1].content))
        for child in token.children or []:
            href = child.attrGet("href") if child.type == "link_open" else None
            if isinstance(href, str) and href.startswith("#"):
                links.append(href[1:])
    return [link for link in links if unquote(link) not in anchors]
