# SPDX-License-Identifier: Apache-2.0
"""Ctrl-C and ``kill``: SIGINT and SIGTERM raise :class:`Interrupted` in the main thread, so a stage ends through
the runner (an ``interrupted`` record, the resume hint, exit 130 / 143) instead of dying on the spot.

MindSpore's runtime installs its own C-level SIGINT handler at every graph run, and that handler sends SIGTERM to
the process: the signal a user sent is lost. :func:`install` (called by the ``zoo`` command) therefore blocks
SIGTERM in every thread and takes it in a thread of its own with ``sigwaitinfo``, which tells who sent it: a
SIGTERM the process sent itself is a SIGINT that MindSpore converted; one from another process is a real SIGTERM.
The main thread gets the original signal through ``_thread.interrupt_main``. Child processes that zoo starts get
SIGTERM unblocked again (:func:`child_setup`).
"""

from __future__ import annotations

import _thread
import contextlib
import ctypes
import os
import signal
import threading
from collections.abc import Callable, Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)
PR_SET_PDEATHSIG = 1


class _State:
    installed = False
    deferred = 0  # depth of deferred() blocks
    pending: int | None = None  # a signal that came during one


_state = _State()
_prctl: Callable[..., int] | None
try:  # looked up here, once: a child between fork and exec should call, not load
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


class Interrupted(KeyboardInterrupt):
    """The user (or a supervisor) asked the process to stop with ``signum``."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = int(signum)
        super().__init__(signal.Signals(self.signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def signal_name(exc: BaseException) -> str:
    return signal.Signals(getattr(exc, "signum", signal.SIGINT)).name


def _raise(signum: int, frame: object) -> None:
    if _state.deferred:
        _state.pending = _state.pending or signum
        return
    raise Interrupted(signum)


def _wait_for_sigterm() -> None:
    while True:
        info = signal.sigwaitinfo({signal.SIGTERM})
        _thread.interrupt_main(signal.SIGINT if info.si_pid == os.getpid() else signal.SIGTERM)


def install() -> None:
    """Route SIGINT and SIGTERM to :class:`Interrupted` in the main thread for the rest of the process. Call it
    first thing, before any framework starts threads (they inherit the blocked SIGTERM)."""
    if _state.installed or threading.current_thread() is not threading.main_thread():
        return
    for signum in SIGNALS:
        signal.signal(signum, _raise)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    threading.Thread(target=_wait_for_sigterm, name="zoo-signals", daemon=True).start()
    _state.installed = True


def child_setup() -> None:
    """For ``subprocess.Popen(preexec_fn=...)``: the child gets SIGTERM unblocked and dies with its parent."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(SIGNALS))
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back while the block runs (writing a record), then raise the one that came."""
    _state.deferred += 1
    try:
        yield
    finally:
        _state.deferred -= 1
        if not _state.deferred and _state.pending:
            pending, _state.pending = _state.pending, None
            raise Interrupted(pending)
