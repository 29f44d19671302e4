# SPDX-License-Identifier: Apache-2.0
"""Errors a user can fix. The CLI prints each as one line (no traceback) and exits non-zero."""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class ZooError(Exception):
    """A problem with the user's input or environment, with the fix in its message."""

    exit_code = 1


class UsageError(ZooError):
    """A wrong name or value on the command line (unknown model, stage, preset, config key)."""

    exit_code = 2


def first_line(text: object, limit: int | None = None) -> str:
    """The first non-blank line of ``text`` (an exception message, a docstring), cut to ``limit`` characters;
    "" when there is none."""
    lines = str(text).strip().splitlines()
    return lines[0][:limit] if lines else ""


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """' (did you mean 'x'?); known: a, b' — the tail of an unknown-name message."""
    known = sorted(known)
    close = difflib.get_close_matches(word, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"{hint}; known: {', '.join(known) if known else '(none)'}"
