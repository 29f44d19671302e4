# SPDX-License-Identifier: Apache-2.0
"""One writer per work directory: an OS file lock, and the clean-up of what a killed writer left behind.

``exclusive(workdir, command)`` takes ``WORKDIR/.zoo.lock`` with ``flock``: the kernel releases it when the
holder ends, however it ends (kill -9 included), so a lock is never stale. A second writer is refused at once
with the PID and command of the holder. Readers (``zoo runs``, ``zoo check``, ``render-docs --check``) never take
it. Under the lock, temporary files and folders of a killed writer (names with ``TMP_MARK``) are removed, and a
folder that a killed ``atomic_dir`` left as ``.NAME.zoo-old`` without its replacement is put back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import ZooError
from .io import OLD_MARK, TMP_MARK, default_mode

LOCK_NAME = ".zoo.lock"


class WorkdirBusy(ZooError):
    """Another zoo process holds the work directory's lock."""


def _holder(fd: int) -> dict[str, object]:
    """What the holder wrote into the lock file (it writes right after locking: retry briefly if still empty)."""
    for _ in range(10):
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 65536)
        if raw.strip():
            try:
                return json.loads(raw)
            except ValueError:
                pass
        time.sleep(0.05)
    return {}


@contextlib.contextmanager
def exclusive(workdir: Path, command: str) -> Iterator[list[str]]:
    """Hold ``workdir``'s lock for the ``with`` block; yields what was cleaned up from a killed writer."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    fd = os.open(workdir / LOCK_NAME, os.O_RDWR | os.O_CREAT, default_mode())
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            who = (
                f"PID {holder.get('pid')} on {holder.get('host')} (`{holder.get('command')}`, since "
                f"{holder.get('started')})"
                if holder
                else "another zoo process"
            )
            raise WorkdirBusy(
                f"{workdir} is in use by {who}: one zoo command writes to a work directory at a "
                f"time; wait for it to end, stop it, or use another --workdir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(
            fd,
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "command": command,
                    "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                }
            ).encode(),
        )
        yield clean_stale(workdir)
    finally:
        os.close(fd)  # releases the lock


def clean_stale(root: Path) -> list[str]:
    """Remove temporary files and folders zoo left in ``root`` when killed; put back a replaced folder whose
    replacement never arrived. Returns what was done, one line per item."""
    done: list[str] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        for name in list(dirs):
            path = here / name
            if name.startswith(".") and TMP_MARK in name:
                shutil.rmtree(path, ignore_errors=True)
                done.append(f"removed {path}")
                dirs.remove(name)
            elif name.startswith(".") and name.endswith(OLD_MARK):
                original = here / name[1 : -len(OLD_MARK)]
                if original.exists():
                    shutil.rmtree(path, ignore_errors=True)
                    done.append(f"removed {path}")
                else:
                    os.replace(path, original)
                    done.append(f"restored {original}")
                dirs.remove(name)
        for name in files:
            if name.startswith(".") and TMP_MARK in name:
                (here / name).unlink(missing_ok=True)
                done.append(f"removed {here / name}")
    return done
