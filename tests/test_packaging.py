# SPDX-License-Identifier: Apache-2.0
"""``zoo package``: nothing the user had is removed; a previous bundle is replaced only with --force; the bundle's
files are readable by others as the umask says."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import zoo
from zoo_core.io import sha256_file, umask


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_folder_with_other_files_is_refused_and_kept(copy, tmp_path, cli):
    output = tmp_path / "mine"
    output.mkdir()
    (output / "thesis.tex").write_text("years of work")
    code, out, err = cli("package", "mcnn", "--workdir", str(copy), "--output", str(output), "--force")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert f"--output {output} is not empty and holds no zoo bundle" in err
    assert snapshot(output) == {"thesis.tex": sha256_file(output / "thesis.tex")}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_previous_bundle_is_replaced_only_with_force_and_only_if_it_is_all_bundle(copy, tmp_path, cli):
    output = tmp_path / "bundle"
    assert cli("package", "mcnn", "--workdir", str(copy), "--output", str(output))[0] == 0
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["format"] == "zoo-bundle/1" and manifest["model"] == "mcnn"
    first = snapshot(output)
    assert {"README.md", "README_en.md", "training.png", "inference_example.png"} <= set(first)  # the shown pictures
    code, _, err = cli("package", "mcnn", "--workdir", str(copy), "--output", str(output))
    assert code == 2 and "holds a previous mcnn bundle: add --force to replace it" in err
    assert snapshot(output) == first
    assert cli("package", "mcnn", "--workdir", str(copy), "--output", str(output), "--force")[0] == 0
    assert set(snapshot(output)) == set(first)
    (output / "models" / "my_notes.txt").write_text("mine")
    code, _, err = cli("package", "mcnn", "--workdir", str(copy), "--output", str(output), "--force")
    assert code == 2 and "holds a mcnn bundle and other files (models/my_notes.txt)" in err
    assert (output / "models" / "my_notes.txt").read_text() == "mine"


@pytest.mark.parametrize("where", ["workdir", "inside", "parent", "root"])
def test_outputs_overlapping_the_work_directory_are_refused(copy, cli, where):
    output = {"workdir": copy, "inside": copy / "export" / "bundle", "parent": copy.parent, "root": Path("/")}[where]
    before = snapshot(copy)
    code, out, err = cli("package", "mcnn", "--workdir", str(copy), "--output", str(output))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert ("lies inside the work directory" if where in ("workdir", "inside") else "holds the work directory") in err
    assert snapshot(copy) == before


def modes(folder: Path) -> set[tuple[str, str]]:
    """(kind, octal mode) of everything under ``folder``; scripts are told apart from other files."""
    found = set()
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        kind = "dir" if path.is_dir() else ("script" if path.suffix == ".sh" else "file")
        found.add((kind, oct(mode)))
    return found


def expected(mask: int) -> set[tuple[str, str]]:
    return {("dir", oct(0o777 & ~mask)), ("file", oct(0o666 & ~mask)), ("script", oct(0o777 & ~mask))}


def test_work_directory_and_bundle_follow_the_umask(delivered, tmp_path):
    """Records, checkpoints (MindSpore makes them 0400), exports, logs and docs in the work directory, and every
    file of the bundle, get the modes of the umask: 0644 / 0755 under 022, 0640 / 0750 under 027."""
    assert modes(delivered) == expected(umask())
    for mask in (0o022, 0o027):
        output = tmp_path / f"bundle-{mask:o}"
        old = os.umask(mask)
        try:
            result = zoo("package", "mcnn", "--workdir", str(delivered), "--output", str(output))
        finally:
            os.umask(old)
        assert result.returncode == 0, result.stderr
        assert modes(output) == expected(mask)
