# SPDX-License-Identifier: Apache-2.0
"""The example plugin outside the core (examples/zoo-digits): its own distribution, public API only, and every
zoo command passes on it once installed."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "examples" / "zoo-digits"
PUBLIC = {"zoo_core", "zoo_core.plugin", "zoo_core.testing"}


def test_example_imports_only_the_public_api():
    files = list(EXAMPLE.rglob("*.py"))
    assert files
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zoo_core"):
                assert node.module in PUBLIC, f"{path.relative_to(EXAMPLE)} imports {node.module}"
            if isinstance(node, ast.Import):
                assert all(a.name in PUBLIC or not a.name.startswith("zoo_core") for a in node.names), path
            if isinstance(node, ast.ImportFrom) and node.module == "zoo_core":
                import zoo_core

                for alias in node.names:
                    assert alias.name in zoo_core.__all__, f"{path.name} uses zoo_core.{alias.name}, not public"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def test_example_installs_and_passes_every_command(tmp_path):
    pip = [sys.executable, "-m", "pip"]
    install = run(*pip, "install", "--no-deps", "--no-build-isolation", "-q", "-e", str(EXAMPLE), cwd=tmp_path)
    assert install.returncode == 0, install.stderr
    zoo = [sys.executable, "-c", "from zoo_core.cli import main; main()"]
    try:
        plugins = json.loads(run(*zoo, "plugins", "--json", cwd=tmp_path).stdout)
        digits = next(p for p in plugins["plugins"] if p["name"] == "digits")
        assert digits["distribution"] == "zoo-digits" and digits["models"] == ["digits"]
        result = run(*zoo, "run", "digits", "--stage", "all", "--preset", "smoke", cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        refused = run(*zoo, "run", "digits", "--stage", "dataset", "--data", str(tmp_path), cwd=tmp_path)
        assert refused.returncode == 2 and "does not read --data in its dataset stage" in refused.stderr
        photos = tmp_path / "photos"
        photos.mkdir()
        (photos / "seven.png").write_bytes(_png_of_seven())
        (photos / "notes.txt").write_text("not an image")
        mine = run(*zoo, "run", "digits", "--stage", "infer", "--data", str(photos), cwd=tmp_path)
        assert mine.returncode == 0 and "skipped" in mine.stdout + mine.stderr, mine.stderr
        table = next((tmp_path / "runs" / "digits" / "predictions").glob("*/predictions.csv")).read_text()
        assert table.splitlines()[1].startswith("seven.png,")
        assert run(*zoo, "render-docs", "digits", "--lang", "en", cwd=tmp_path).returncode == 0
        assert run(*zoo, "render-docs", "digits", cwd=tmp_path).returncode == 0
        check = run(*zoo, "check", "digits", cwd=tmp_path)
        assert check.returncode == 0, check.stdout
        own = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests"), cwd=tmp_path)
        assert own.returncode == 0, own.stdout[-3000:]
    finally:
        run(*pip, "uninstall", "-y", "-q", "zoo-digits", cwd=tmp_path)


def _png_of_seven() -> bytes:
    import cv2
    import numpy as np

    image = np.zeros((56, 56), np.uint8)
    cv2.putText(image, "7", (14, 46), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (255,), 4)
    return cv2.imencode(".png", image)[1].tobytes()
