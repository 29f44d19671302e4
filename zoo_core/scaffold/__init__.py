# SPDX-License-Identifier: Apache-2.0
"""``zoo new NAME``: an installable model-plugin package that runs every stage out of the box.

The files are ``template/`` with ``TEMPLATE_NAME`` replaced by the model name (``pkg/`` becomes the package
``zoo_<name>``, ``.tmpl`` suffixes are dropped), written atomically.
"""

from __future__ import annotations

import datetime as dt
import re
from importlib import metadata as importlib_metadata
from pathlib import Path

from ..errors import UsageError, ZooError
from ..io import atomic_dir

TEMPLATE = Path(__file__).parent / "template"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def create(name: str, output: str | Path | None = None) -> Path:
    """Write the plugin package for model ``name`` into ``output`` (default ``./zoo-<name>``); returns it."""
    if not _NAME.match(name):
        raise UsageError(
            f"model name '{name}': use lower-case letters, digits and '_' (a Python identifier), starting with a letter"
        )
    target = Path(output) if output else Path(f"zoo-{name}")
    if target.exists() and any(target.iterdir()):
        raise ZooError(f"{target} exists and is not empty; choose another --output")
    try:
        framework = importlib_metadata.version("mindspore")
    except importlib_metadata.PackageNotFoundError:
        framework = "2.10.0"
    today = dt.date.today()
    tokens = {
        "TEMPLATE_RULE": name.upper(),
        "TEMPLATE_NAME": name,
        "FRAMEWORK_VERSION": framework,
        "MODIFIED_DATE": f"{today.year}.{today.month}.{today.day}",
    }
    with atomic_dir(target) as tmp:
        for source in sorted(TEMPLATE.rglob("*.tmpl")):
            relative = str(source.relative_to(TEMPLATE)).removesuffix(".tmpl")
            relative = re.sub(r"^pkg/", f"zoo_{name}/", relative)
            text = source.read_text(encoding="utf-8")
            for token, value in tokens.items():
                text, relative = text.replace(token, value), relative.replace(token, value)
            path = tmp / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return target
