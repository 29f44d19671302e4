# SPDX-License-Identifier: Apache-2.0
"""The plugin manager facade: entry-point loading with fault isolation, model registry, hook calls.

This module is the only code that touches ``pm.hook``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from types import ModuleType
from typing import Any

import pluggy

from ..checks import Rule
from ..checks import builtin as builtin_checks
from ..convert import Converter
from ..convert import builtin as builtin_converters
from ..errors import UsageError, ZooError, did_you_mean
from ..model import ModelSpec
from . import API_VERSION, ENTRY_POINT_GROUP, NAME, spec

BUILTIN_PLUGINS = {"zoo-converters": builtin_converters, "zoo-checks": builtin_checks}  # always loaded


@dataclass(frozen=True)
class PluginFailure:
    name: str
    distribution: str
    reason: str


def _norm(name: str) -> str:
    """A plugin or distribution name compared the way pip compares names: any case, ``-`` ``_`` ``.`` alike."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _disabled() -> dict[str, str]:
    """Names listed in ZOO_DISABLE_PLUGINS (plugin or distribution names, as ``zoo plugins`` prints them)."""
    listed = os.environ.get("ZOO_DISABLE_PLUGINS", "").split(",")
    return {_norm(name): name.strip() for name in listed if name.strip()}


def _strict() -> bool:
    return os.environ.get("ZOO_STRICT_PLUGINS", "") not in ("", "0")


def _default_warn(message: str) -> None:
    print(f"zoo: warning: {message}", file=sys.stderr)


class PluginManager:
    """Loads plugins and knows their models. ``warn`` receives one line per plugin that was skipped."""

    def __init__(self, warn: Callable[[str], None] = _default_warn) -> None:
        self._pm = pluggy.PluginManager(NAME)
        self._pm.add_hookspecs(spec)
        self._warn = warn
        self._dists: dict[str, str] = {}
        self._models: dict[str, ModelSpec] | None = None
        self._converters: dict[str, Converter] | None = None
        self._rules: dict[str, Rule] | None = None
        self._owners: dict[str, str] = {}  # model name -> plugin name
        self.failures: list[PluginFailure] = []
        self.disabled: list[PluginFailure] = []
        for name, module in BUILTIN_PLUGINS.items():
            self.register(module, name, "zoo")

    def _fail(self, name: str, dist: str, reason: str) -> None:
        message = f"plugin '{name}' from distribution '{dist}' was skipped: {reason}"
        if _strict():
            raise ZooError(f"{message} (ZOO_STRICT_PLUGINS is set)")
        self.failures.append(PluginFailure(name, dist, reason))
        self._warn(f"{message} (set ZOO_STRICT_PLUGINS=1 to make this fatal)")

    def load_entry_points(self) -> None:
        disabled = _disabled()
        matched: set[str] = set()
        installed: list[str] = []
        for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist is not None else "(unknown distribution)"
            installed.append(f"{ep.name} ({dist})")
            hits = {_norm(ep.name), _norm(dist)} & set(disabled)
            matched |= hits
            if self._pm.has_plugin(ep.name):
                continue
            if hits:
                self.disabled.append(PluginFailure(ep.name, dist, "disabled by ZOO_DISABLE_PLUGINS"))
                continue
            try:
                module = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken third-party plugin must not take the CLI down
                self._fail(ep.name, dist, f"{type(exc).__name__}: {exc}")
                continue
            wanted = getattr(module, "ZOO_API_VERSION", API_VERSION)
            if wanted != API_VERSION:
                self._fail(
                    ep.name,
                    dist,
                    f"written for zoo plugin API {wanted}, this zoo provides API "
                    f"{API_VERSION}; install a release of the plugin made for API {API_VERSION}",
                )
                continue
            self.register(module, ep.name, dist)
        for key in sorted(set(disabled) - matched):
            core = key in {_norm(name) for name in BUILTIN_PLUGINS}
            self._warn(
                f"ZOO_DISABLE_PLUGINS names '{disabled[key]}', "
                + (
                    "a part of zoo itself, which cannot be disabled"
                    if core
                    else "which matches no installed plugin or distribution "
                    f"(installed: {', '.join(installed) or 'none'})"
                )
            )

    def plugins(self) -> list[dict[str, Any]]:
        """What ``zoo plugins`` shows: each loaded plugin with distribution, version, models and hooks."""
        self.models()
        rows = []
        for name, plugin in self._pm.list_name_plugin():
            dist = self._dists.get(name, "?")
            try:
                version = importlib_metadata.version(dist)
            except (importlib_metadata.PackageNotFoundError, ValueError):
                version = None
            hooks = sorted(caller.name for caller in self._pm.get_hookcallers(plugin) or [])
            models = sorted(m for m, owner in self._owners.items() if owner == name)
            rows.append({"name": name, "distribution": dist, "version": version, "models": models, "hooks": hooks})
        return rows

    def register(self, plugin: ModuleType | object, name: str, distribution: str = "(registered in process)") -> None:
        try:
            self._pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            self._fail(name, distribution, f"{type(exc).__name__}: {exc}")
            return
        self._dists[name] = distribution
        self._models = self._converters = self._rules = None

    def _describe(self, plugin: str) -> str:
        return f"{plugin} (distribution '{self._dists.get(plugin, '?')}')"

    def _collect(self, hook: str, kind: type) -> list[tuple[str, Any]]:
        """Call ``hook(register=...)`` of each plugin on its own; a plugin that raises or registers something
        of the wrong type is skipped with a warning. Returns (plugin name, item) pairs."""
        items = []
        for impl in getattr(self._pm.hook, hook).get_hookimpls():  # in registration order
            dist = self._dists.get(impl.plugin_name, "?")
            registered: list[Any] = []
            try:
                impl.function(register=registered.append)
            except ZooError as exc:
                self._fail(impl.plugin_name, dist, str(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - a plugin's hook may raise anything: it is skipped
                self._fail(impl.plugin_name, dist, f"{type(exc).__name__}: {exc}")
                continue
            for item in registered:
                if not isinstance(item, kind):
                    self._fail(
                        impl.plugin_name, dist, f"register() got {type(item).__name__}, expected {kind.__name__}"
                    )
                    continue
                items.append((impl.plugin_name, item))
        return items

    def _unique(
        self, items: list[tuple[str, Any]], what: str, key: str = "name"
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Items by name, and the plugin that registered each; a name registered twice is an error naming both."""
        found: dict[str, Any] = {}
        owners: dict[str, str] = {}
        for owner, item in items:
            name = getattr(item, key)
            if name in found:
                raise ZooError(
                    f"{what} '{name}' is registered twice: by {self._describe(owners[name])} and by "
                    f"{self._describe(owner)}; uninstall or disable one of them"
                )
            found[name] = item
            owners[name] = owner
        return found, owners

    def models(self) -> dict[str, ModelSpec]:
        """Every registered model by name; two plugins claiming one name is an error naming both."""
        if self._models is None:
            self._models, self._owners = self._unique(self._collect("zoo_register_models", ModelSpec), "model")
        return self._models

    def rules(self) -> dict[str, Rule]:
        """Every registered release-checklist rule by id (zoo's own and the plugins')."""
        if self._rules is None:
            self._rules, _ = self._unique(self._collect("zoo_register_checks", Rule), "check rule", key="id")
        return self._rules

    def converters(self) -> dict[str, Converter]:
        """Every registered converter by name (zoo's own and the plugins')."""
        if self._converters is None:
            self._converters, _ = self._unique(self._collect("zoo_register_converters", Converter), "converter")
        return self._converters

    def doc_templates(self, model: ModelSpec) -> list[Any]:
        """Template folders plugins give for ``model`` (zoo_doc_templates), in registration order."""
        answers = self._pm.hook.zoo_doc_templates(model=model)
        return [answer for answer in reversed(answers) if answer is not None]

    def owner(self, model: str) -> str:
        """``plugin (distribution 'dist')`` of the plugin that registered ``model``."""
        self.models()
        return self._describe(self._owners[model])

    def get(self, name: str) -> ModelSpec:
        models = self.models()
        if name not in models:
            raise UsageError(f"unknown model '{name}'{did_you_mean(name, models)}")
        return models[name]

    def stage_finished(self, record: Any) -> None:
        try:
            self._pm.hook.zoo_stage_finished(record=record)
        except Exception as exc:  # noqa: BLE001 - an observer must not fail the stage
            self._warn(f"a zoo_stage_finished hook raised {type(exc).__name__}: {exc}")


def default_manager() -> PluginManager:
    """A manager with every installed plugin loaded."""
    manager = PluginManager()
    manager.load_entry_points()
    return manager
