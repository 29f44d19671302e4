# SPDX-License-Identifier: Apache-2.0
"""`zoo new`: the generated plugin installs, and every command passes on it at once, its own tests included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zoo_core.scaffold import create


def sh(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def test_new_plugin_installs_and_passes_every_command(tmp_path):
    target = create("toyplug", tmp_path / "zoo-toyplug")
    assert (target / "pyproject.toml").is_file() and (target / "zoo_toyplug" / "plugin.py").is_file()
    install = sh(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-e",
        str(target),
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr
    zoo = [sys.executable, "-c", "from zoo_core.cli import main; main()"]
    try:
        listing = sh(*zoo, "list", "--json", cwd=tmp_path)
        assert "toyplug" in {m["name"] for m in json.loads(listing.stdout)["models"]}, listing.stderr
        run = sh(*zoo, "run", "toyplug", "--stage", "all", "--preset", "smoke", cwd=tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        for stage in ("dataset", "network", "train", "eval", "export", "convert", "infer"):
            assert f"== toyplug: {stage} (preset smoke) ==" in run.stdout
        docs = sh(*zoo, "render-docs", "toyplug", "--lang", "en", cwd=tmp_path)
        assert docs.returncode == 0, docs.stderr
        assert "Two dense layers" in (tmp_path / "runs" / "toyplug" / "docs" / "README_en.md").read_text()
        assert sh(*zoo, "render-docs", "toyplug", cwd=tmp_path).returncode == 0
        check = sh(*zoo, "check", "toyplug", cwd=tmp_path)
        assert check.returncode == 0, check.stdout
        assert "✓ TOYPLUG-001" in check.stdout  # the plugin's own checklist rule
        mcnn = sh(*zoo, "check", "mcnn", "--workdir", str(tmp_path / "empty"), "--json", cwd=tmp_path)
        assert not [f for f in json.loads(mcnn.stdout) if f["rule"].startswith("TOYPLUG")]  # judges its models only
        points = tmp_path / "points.csv"
        points.write_text("".join(f"{(-1) ** i * 3 + i / 50},{i % 3},{i % 2}\n" for i in range(60)))
        mine = sh(*zoo, "run", "toyplug", "--stage", "dataset,train", "--data", str(points), "--preset", "smoke",
                  "--workdir", str(tmp_path / "mine"), cwd=tmp_path)  # fmt: skip
        assert mine.returncode == 0 and "train 42, val 6, test 12" in _splits(tmp_path / "mine"), mine.stderr
        infer = sh(*zoo, "run", "toyplug", "--stage", "infer", "--data", str(points), cwd=tmp_path)
        assert infer.returncode == 0, infer.stderr
        assert (
            len(
                next((tmp_path / "runs" / "toyplug" / "predictions").glob("*/predictions.csv")).read_text().splitlines()
            )
            == 61
        )
        own_tests = sh(
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target / "tests"), cwd=target
        )
        assert own_tests.returncode == 0, own_tests.stdout[-3000:]
    finally:
        sh(sys.executable, "-m", "pip", "uninstall", "-y", "-q", "zoo-toyplug", cwd=tmp_path)


def _splits(workdir: Path) -> str:
    from zoo_core.records import RecordStore

    splits = RecordStore(workdir).latest("dataset").result.splits
    return ", ".join(f"{k} {v}" for k, v in splits.items())


@pytest.mark.parametrize("name, message", [("Bad-Name", "use lower-case letters"), ("9lives", "starting with")])
def test_new_rejects_bad_names(cli, tmp_path, name, message):
    code, _, err = cli("new", name, "--output", str(tmp_path / "x"))
    assert code == 2 and message in err and not (tmp_path / "x").exists()


def test_new_refuses_a_non_empty_folder(cli, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    code, _, err = cli("new", "ok", "--output", str(tmp_path / "full"))
    assert code == 1 and "exists and is not empty" in err
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
