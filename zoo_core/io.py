# SPDX-License-Identifier: Apache-2.0
"""Atomic writes: every record, checkpoint and doc is written to a temporary file and renamed into place,
so a crash or Ctrl-C never leaves a half-written file under the final name.

Files and folders get the modes the user's umask gives (0644 / 0755 under umask 022), whatever mode the
temporary file was created with or a framework set (MindSpore makes its checkpoints 0400). Temporary names carry
``TMP_MARK`` (``.NAME.zoo-tmp-XXXX``; a replaced folder waits as ``.NAME.zoo-old``), so the next writer of a work
directory can tell a killed writer's leftovers from the user's files (``zoo_core.workdir``).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import DiskFull, ZooError, is_disk_full

TMP_MARK = ".zoo-tmp-"
OLD_MARK = ".zoo-old"


def umask() -> int:
    """The process umask, read without changing it (``/proc``), else by setting and restoring it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def default_mode(executable: bool = False) -> int:
    """The mode ``open()`` / ``mkdir`` would give a new file (or folder / script, with ``executable``)."""
    return (0o777 if executable else 0o666) & ~umask()


def apply_umask(path: Path) -> None:
    """Give ``path`` (and, for a folder, everything under it) the umask's modes; scripts keep being executable."""
    path = Path(path)
    items = [path] + (sorted(path.rglob("*")) if path.is_dir() and not path.is_symlink() else [])
    for item in items:
        if item.is_symlink():
            continue
        mode = item.stat().st_mode
        os.chmod(item, default_mode(item.is_dir() or bool(mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))))


def _remove(tmp: Path | None) -> None:
    """``tmp`` and the file a framework derives from its name (MindSpore saves ``X.ckpt`` through ``X.tmp``)."""
    for path in [tmp, tmp.with_suffix(".tmp")] if tmp is not None else []:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "", needed: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``, on error removed.

    ``suffix`` keeps a file ending that a writer insists on (MindSpore appends ``.ckpt`` otherwise). ``needed``
    (bytes, when known) goes into the message if the disk fills up.
    """
    final = Path(path)
    tmp: Path | None = None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}{TMP_MARK}", suffix=suffix, dir=final.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        yield tmp
        apply_umask(tmp)
        os.replace(tmp, final)
    except Exception as exc:
        if is_disk_full(exc) and not isinstance(exc, DiskFull):
            _remove(tmp)  # first, so the message tells the space free without the partial file
            raise DiskFull(final, needed) from exc
        raise
    finally:
        _remove(tmp)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    with atomic_path(path, suffix=Path(path).suffix, needed=len(data)) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) gets a leading
    ``'``; numbers (also written as text, "-1.5") and other text are returned as they are."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return f"'{value}"
    return value


def atomic_write_csv(path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """A CSV table written atomically; text cells are :func:`spreadsheet_safe` (file names are user input)."""
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return atomic_write_text(path, table.getvalue())


def copy_file(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Copy the bytes of ``source`` to ``target``, which gets the umask's mode (executable if ``source`` is),
    not the source's (a MindSpore checkpoint is 0400)."""
    shutil.copyfile(source, target)
    os.chmod(target, default_mode(bool(os.stat(source).st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))))
    return Path(target)


def atomic_copy(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """:func:`copy_file`, atomically."""
    with atomic_path(target, suffix=Path(target).suffix, needed=Path(source).stat().st_size) as tmp:
        copy_file(source, tmp)
    return Path(target)


def read_text(path: str | os.PathLike[str], what: str) -> str:
    """A UTF-8 text file a user may have written (config, metadata, record); a ZooError naming the file (and the
    byte, line and column of text that is not UTF-8) otherwise."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ZooError(f"{path}: cannot read {what} ({exc.strerror})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ZooError(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}, column {column}); "
            f"save the file as UTF-8"
        ) from None


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) if Path(path).is_dir() else 0


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], needed: int | None = None) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; on success it replaces ``path`` whole, on error it is removed.

    Between the two renames the previous folder waits as ``.NAME.zoo-old``; if the process dies right there, the
    next writer of the work directory puts it back (``zoo_core.workdir.clean_stale``).
    """
    final = Path(path)
    tmp: Path | None = None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}{TMP_MARK}", dir=final.parent))
        yield tmp
        apply_umask(tmp)
        if final.exists():
            old = final.with_name(f".{final.name}{OLD_MARK}")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except Exception as exc:
        if is_disk_full(exc) and not isinstance(exc, DiskFull):
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            raise DiskFull(final, needed if needed is not None else folder_bytes(final) or None) from exc
        raise
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
