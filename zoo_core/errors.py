# SPDX-License-Identifier: Apache-2.0
"""Errors a user can fix. The CLI prints each as one line (no traceback) and exits non-zero."""

from __future__ import annotations

import difflib
import errno
import os
import shutil
from collections.abc import Iterable
from pathlib import Path


class ZooError(Exception):
    """A problem with the user's input or environment, with the fix in its message."""

    exit_code = 1
    prefix = "error"  # the CLI prints "zoo: <prefix>: <message>"


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


def _size(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} GiB"


def free_bytes(path: str | os.PathLike[str]) -> int | None:
    """Free bytes on the file system of ``path`` (or of its nearest existing parent); None if unknown."""
    probe = Path(path).absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def is_disk_full(exc: BaseException | None) -> bool:
    """True when ``exc`` (or an exception it was raised from) is "no space left on device" / "quota exceeded"."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(exc):  # frameworks that wrap the OSError in their own exception
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class DiskFull(ZooError):
    """The file system of ``path`` ran out of space while zoo wrote it; names the free and the needed space."""

    def __init__(self, path: str | os.PathLike[str], needed: int | None = None) -> None:
        self.path, self.needed, self.free = Path(path), needed, free_bytes(path)
        have = f"{_size(self.free)} free there" if self.free is not None else "free space unknown"
        if needed is not None and self.free is not None and needed > self.free:
            fix = f"about {_size(needed)} needed: free at least {_size(needed - self.free)}"
        else:
            fix = "free some space"
        super().__init__(
            f"no space left on device writing {self.path} ({have}); {fix} (or use another "
            f"--workdir / --output) and run again"
        )
