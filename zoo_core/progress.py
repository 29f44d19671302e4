# SPDX-License-Identifier: Apache-2.0
"""Progress bars and seed-style log lines (``[time] Train epoch: [e/E], batch: [b/B], ...``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], total: int | None = None, desc: str = "") -> Iterator[T]:
    """A progress bar on stderr when it is a terminal; nothing otherwise (logs stay clean in CI)."""
    return iter(tqdm(items, total=total, desc=desc, leave=False, disable=None, dynamic_ncols=True))


def stamp() -> str:
    """``[2021-09-17 08:41:16.135825]`` as in the seed training logs."""
    return f"[{dt.datetime.now():%Y-%m-%d %H:%M:%S.%f}]"


def format_eta(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return str(dt.timedelta(seconds=seconds))
