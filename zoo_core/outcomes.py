# SPDX-License-Identifier: Apache-2.0
"""How a stage run ends, told the runner's way: its log, and the one line a user sees for each kind of end.

A stage ends ok, with an error the user can fix (``ZooError``), interrupted by a signal, out of disk space, with a
metric that is not a number, or with a bug. The console gets one line for each; a bug's traceback goes to the
stage log only (``ZOO_DEBUG=1`` re-raises it).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from .errors import DiskFull, ZooError, is_disk_full
from .interrupts import signal_name
from .records import Status
from .results import RESULT_TYPES

if TYPE_CHECKING:
    from .model import ModelSpec
    from .results import StageResult
from .runtime import FRAMEWORK_LOG


class _Console(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        tqdm.write(self.format(record), file=sys.stdout)


class _File(logging.FileHandler):
    def handleError(self, record: logging.LogRecord) -> None:  # a full disk must not print a traceback
        pass


def stage_logger(run_id: str, log_path: Path, quiet: bool) -> logging.Logger:
    """The stage's logger: every line to ``log_path``, and to the console unless ``quiet``. Framework log lines
    (``FRAMEWORK_LOG``) go to the file only."""
    log = logging.getLogger(f"zoo.run.{run_id}")
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.touch()
    except OSError:  # a full or read-only disk: the stage still runs and reports why it cannot write
        pass
    file = _File(log_path, encoding="utf-8", delay=True)
    handlers: list[logging.Handler] = [file] + ([] if quiet else [_Console()])
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    logging.getLogger(FRAMEWORK_LOG).addHandler(file)
    return log


def close_logger(log: logging.Logger) -> None:
    framework = logging.getLogger(FRAMEWORK_LOG)
    for handler in list(log.handlers):
        handler.close()
        log.removeHandler(handler)
        framework.removeHandler(handler)


def to_file_only(log: logging.Logger, text: str) -> None:
    """``text`` into the stage log file, not onto the console (a traceback is for the log)."""
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, text, (), None)
    for handler in log.handlers:
        if isinstance(handler, _File):
            handler.handle(record)


def append_line(path: Path, line: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError:
        pass


def bad_numbers(metrics: Any, prefix: str = "") -> list[str]:
    """``key=value`` of every NaN or infinite number in ``metrics`` (nested dicts and lists included)."""
    if isinstance(metrics, float) and not math.isfinite(metrics):
        return [f"{prefix}={metrics}"]
    if isinstance(metrics, dict):
        return [bad for key, value in metrics.items() for bad in bad_numbers(value, f"{prefix}.{key}".lstrip("."))]
    if isinstance(metrics, (list, tuple)):
        return [bad for i, value in enumerate(metrics) for bad in bad_numbers(value, f"{prefix}[{i}]")]
    return []


def refuse_non_finite(stage: str, values: Any, what: str) -> None:
    """A ZooError naming the first NaN or infinite numbers in ``values`` (the stage's ``what``), if there are any."""
    bad = bad_numbers(values)
    if bad:
        raise ZooError(
            f"{stage} produced non-finite {what} ({', '.join(bad[:3])}): a damaged model or input, or a diverged "
            f"training; the run is not kept as a success"
        )


def checked_result(spec: ModelSpec, stage: str, result: Any) -> StageResult:
    """The stage's typed result, or a ZooError saying what is wrong with it (a plugin's mistake, named)."""
    expected = RESULT_TYPES[stage]
    if result is None:
        raise ZooError(
            f"model '{spec.name}': the {stage} stage ended without its result: return a "
            f"zoo_core.{expected.__name__} (or set ctx.result)"
        )
    if not isinstance(result, expected):
        raise ZooError(
            f"model '{spec.name}': the {stage} stage returned {type(result).__name__}, "
            f"expected zoo_core.{expected.__name__}"
        )
    declared = {m.key for m in spec.metrics}
    named = set(getattr(result, "scores", {}))
    named |= {key for point in getattr(result, "history", []) for key in point.metrics}
    baseline = getattr(result, "baseline", None)
    named |= set(baseline.scores) if baseline is not None else set()
    if named - declared:
        raise ZooError(
            f"model '{spec.name}': the {stage} result names metrics it does not declare "
            f"({', '.join(sorted(named - declared))}); declared: {', '.join(sorted(declared)) or 'none'}"
        )
    refuse_non_finite(stage, result.model_dump(), "numbers")
    return result  # type: ignore[return-value]


@dataclass
class Ending:
    status: Status  # the record's status
    error: str | None = None  # the record's error
    failure: ZooError | None = None  # what the command reports (None: success)


def ending(
    exc: BaseException,
    stage: str,
    model: str,
    log: logging.Logger,
    log_path: Path,
    checkpoint: str | None,
    workdir: Path,
) -> Ending:
    """The record status and the user's one line for a stage that raised ``exc``."""
    if isinstance(exc, KeyboardInterrupt):
        name = signal_name(exc)
        if checkpoint:
            hint = (
                f"the last complete checkpoint, {checkpoint}, is kept: continue with "
                f"`zoo run {model} --stage {stage} --resume`"
            )
        else:
            hint = f"run `zoo run {model} --stage {stage}` again"
        failure = ZooError(f"{stage} interrupted by {name}; {hint}")
        failure.exit_code = 128 + getattr(exc, "signum", 2)
        failure.prefix = "interrupted"
        return Ending("interrupted", f"interrupted by {name}", failure)
    if is_disk_full(exc):
        failure = exc if isinstance(exc, DiskFull) else DiskFull(getattr(exc, "filename", None) or workdir)
        to_file_only(log, traceback.format_exc())
        return Ending("failed", str(failure), failure)
    if isinstance(exc, ZooError):
        return Ending("failed", str(exc), exc)
    to_file_only(log, traceback.format_exc())
    error = f"{type(exc).__name__}: {exc}"
    if os.environ.get("ZOO_DEBUG"):
        raise exc
    return Ending(
        "failed", error, ZooError(f"{stage} failed with an internal error: {error} (traceback in {log_path})")
    )
