# SPDX-License-Identifier: Apache-2.0
"""Writes: a full disk during train, export, render-docs or package is one line naming the path and the space
needed, a ``failed`` record, no temporary file left and no traceback; CSV cells cannot run as formulas."""

from __future__ import annotations

import errno
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ZOO, copy_workdir
from zoo_core.io import atomic_write_csv, spreadsheet_safe
from zoo_core.records import RecordStore

PAGE = 4096


def _unshare() -> list[str] | None:
    """A command prefix that gives a private mount namespace (to mount a small tmpfs), if this machine has one."""
    for prefix in (["unshare", "-rm"], ["unshare", "-m"]):
        if shutil.which("unshare") and subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    return None


UNSHARE = _unshare()
needs_mounts = pytest.mark.skipif(
    UNSHARE is None, reason="no mount namespace here (unshare -rm refused): the in-process disk-full test still runs"
)


def used_bytes(folder: Path) -> int:
    return sum(-(-p.stat().st_size // PAGE) * PAGE for p in folder.rglob("*") if p.is_file())


def on_small_disk(tmp_path: Path, workdir: Path, free_kib: int, *args: str) -> tuple[int, str, str, Path]:
    """Run ``zoo ARGS`` with ``workdir`` on a tmpfs that has ``free_kib`` KiB left after its content; returns exit
    code, stdout, stderr and a copy of what the tmpfs held afterwards."""
    source, after = tmp_path / "source", tmp_path / "after"
    workdir.rename(source)
    workdir.mkdir()
    size_kib = used_bytes(source) // 1024 + free_kib
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    q = shlex.quote
    script = (
        f"mount -t tmpfs -o size={size_kib}k zoo-test {q(str(workdir))} && cp -a {q(str(source))}/. "
        f"{q(str(workdir))}/ || exit 99; {shlex.join([*ZOO, *args])} > {q(str(out))} 2> {q(str(err))}; "
        f"code=$?; mkdir {q(str(after))}; cp -a {q(str(workdir))}/. {q(str(after))}/; exit $code"
    )
    result = subprocess.run([*UNSHARE, "sh", "-c", script], capture_output=True, text=True, timeout=600)
    assert result.returncode != 99, result.stderr
    return result.returncode, out.read_text(), err.read_text(), after


def assert_disk_full(code: int, out: str, err: str, after: Path, path_part: str, short: bool = True) -> None:
    """One line naming the path, the free space and (on a disk that is really short of it) the space needed."""
    assert code == 1, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err and "CRITICAL" not in err, err
    assert err.startswith("zoo: error: no space left on device writing ") and path_part in err
    assert "free there" in err and ("needed: free at least" in err if short else "free some space" in err)
    leftovers = [p for p in after.rglob("*") if "zoo-tmp" in p.name or p.suffix == ".tmp"]
    assert leftovers == []


def trim(workdir: Path, *stages: str) -> Path:
    for stage in stages:
        shutil.rmtree(workdir / stage, ignore_errors=True)
    return workdir


@needs_mounts
def test_disk_full_while_training(delivered, tmp_path):
    workdir = trim(copy_workdir(delivered, tmp_path / "w"), "train", "export", "convert", "infer", "docs")
    code, out, err, after = on_small_disk(
        tmp_path, workdir, 1200, "run", "mcnn", "--stage", "train", "--preset", "smoke", "--workdir", str(workdir)
    )
    assert_disk_full(code, out, err, after, "train/checkpoints/mcnn-1.ckpt")
    assert "about 1.5 MiB needed" in err
    record = RecordStore(after).latest("train", "failed")
    assert record is not None and record.error.startswith("no space left on device writing")


@needs_mounts
def test_disk_full_while_exporting(delivered, tmp_path):
    workdir = trim(copy_workdir(delivered, tmp_path / "w"), "export", "convert", "infer", "docs")
    code, out, err, after = on_small_disk(
        tmp_path, workdir, 900, "run", "mcnn", "--stage", "export", "--preset", "smoke", "--workdir", str(workdir)
    )
    assert_disk_full(code, out, err, after, "export/model")
    assert RecordStore(after).latest("export", "failed") is not None
    assert not (after / "export" / "model").exists()


@needs_mounts
def test_disk_full_while_rendering_docs(delivered, tmp_path):
    workdir = trim(copy_workdir(delivered, tmp_path / "w"), "docs")
    code, out, err, after = on_small_disk(tmp_path, workdir, 8, "render-docs", "mcnn", "--workdir", str(workdir))
    assert_disk_full(code, out, err, after, "docs/training.png")
    assert not (after / "docs" / "README.md").exists()


@needs_mounts
def test_disk_full_for_the_bundle_is_refused_before_copying(delivered, tmp_path):
    target = tmp_path / "bundle"
    target.mkdir()
    code, out, err, after = on_small_disk(
        tmp_path, target, 200, "package", "mcnn", "--workdir", str(delivered), "--output", str(target / "mcnn")
    )
    assert_disk_full(code, out, err, after, "bundle/mcnn")
    assert "MiB needed: free at least" in err and list(after.iterdir()) == []


def test_disk_full_in_a_stage_is_a_failed_record_and_one_line(copy, cli, monkeypatch):
    """The same path without a small disk: the checkpoint write fails with ENOSPC as MindSpore raises it."""
    from zoo_mcnn import train

    def full(cell, path, append_dict=None):
        Path(path).with_suffix(".tmp").write_bytes(b"partial")  # what MindSpore leaves when a write fails
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(train.ms, "save_checkpoint", full)
    code, out, err = cli("run", "mcnn", "--stage", "train", "--preset", "smoke", "--workdir", str(copy))
    assert_disk_full(code, out, err, copy, "train/checkpoints/best.ckpt", short=False)
    assert RecordStore(copy).latest("train", "failed").error.startswith("no space left on device")


def test_csv_cells_cannot_run_as_formulas(tmp_path):
    assert [
        spreadsheet_safe(v) for v in ("=cmd|'/c calc'!A1", "+1+1", "@SUM(A1)", "-x", "-1.25", "IMG_1.jpg", 3.5)
    ] == ["'=cmd|'/c calc'!A1", "'+1+1", "'@SUM(A1)", "'-x", "-1.25", "IMG_1.jpg", 3.5]
    path = atomic_write_csv(tmp_path / "t.csv", ["image", "count"], [["=HYPERLINK(x)", "-2.000"]])
    assert path.read_text().splitlines() == ["image,count", "'=HYPERLINK(x),-2.000"]
