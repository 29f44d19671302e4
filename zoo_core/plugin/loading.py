# SPDX-License-Identifier: Apache-2.0
"""Finding plugins: the ``zoo.plugins`` entry points of installed distributions, minus those ZOO_DISABLE_PLUGINS
names, each imported on its own (one that fails to import, or was written for another API version, is skipped
with one warning naming its distribution; ZOO_STRICT_PLUGINS=1 makes that fatal)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from types import ModuleType

from ..hooks import API_VERSION, ENTRY_POINT_GROUP


@dataclass(frozen=True)
class PluginFailure:
    name: str
    distribution: str
    reason: str


@dataclass
class Found:
    """What a look at the installed distributions gives."""

    modules: list[tuple[str, str, ModuleType]]  # (plugin name, distribution, module)
    failures: list[PluginFailure]
    disabled: list[PluginFailure]
    warnings: list[str]


def norm(name: str) -> str:
    """A plugin or distribution name compared the way pip compares names: any case, ``-`` ``_`` ``.`` alike."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def disabled_names() -> dict[str, str]:
    """Names listed in ZOO_DISABLE_PLUGINS (plugin or distribution names, as ``zoo plugins`` prints them)."""
    listed = os.environ.get("ZOO_DISABLE_PLUGINS", "").split(",")
    return {norm(name): name.strip() for name in listed if name.strip()}


def strict() -> bool:
    return os.environ.get("ZOO_STRICT_PLUGINS", "") not in ("", "0")


def find_plugins(builtin: set[str], loaded: set[str]) -> Found:
    """Import every entry point not loaded yet (``loaded``), not disabled; ``builtin`` names zoo's own plugins."""
    disabled = disabled_names()
    found = Found([], [], [], [])
    matched: set[str] = set()
    installed: list[str] = []
    for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else "(unknown distribution)"
        installed.append(f"{ep.name} ({dist})")
        hits = {norm(ep.name), norm(dist)} & set(disabled)
        matched |= hits
        if ep.name in loaded:
            continue
        if hits:
            found.disabled.append(PluginFailure(ep.name, dist, "disabled by ZOO_DISABLE_PLUGINS"))
            continue
        try:
            module = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken third-party plugin must not take the CLI down
            found.failures.append(PluginFailure(ep.name, dist, f"{type(exc).__name__}: {exc}"))
            continue
        wanted = getattr(module, "ZOO_API_VERSION", API_VERSION)
        if wanted != API_VERSION:
            reason = (
                f"written for zoo plugin API {wanted}, this zoo provides API {API_VERSION}; install a release of "
                f"the plugin made for API {API_VERSION} (docs/plugins.md says what changed)"
            )
            found.failures.append(PluginFailure(ep.name, dist, reason))
            continue
        found.modules.append((ep.name, dist, module))
    for key in sorted(set(disabled) - matched):
        what = (
            "a part of zoo itself, which cannot be disabled"
            if key in {norm(n) for n in builtin}
            else f"which matches no installed plugin or distribution (installed: {', '.join(installed) or 'none'})"
        )
        found.warnings.append(f"ZOO_DISABLE_PLUGINS names '{disabled[key]}', {what}")
    return found
