# SPDX-License-Identifier: Apache-2.0
"""The plugin manager facade: the registries plugins fill (models, converters, checklist rules), who registered
what, and the hook calls. A plugin's fault hurts that plugin only: a hook that raises, or registers something of
the wrong type, is skipped with one warning naming the plugin; a plugin's rules judge its own models only (unless
registered with ``scope="all"``).

This module is the only code that touches ``pm.hook``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import metadata as importlib_metadata
from types import ModuleType
from typing import Any, TypeVar

import pluggy

from ..checks import Rule
from ..checks import builtin as builtin_checks
from ..convert import Converter
from ..convert import builtin as builtin_converters
from ..docs.render import DocTemplates
from ..errors import UsageError, ZooError, did_you_mean
from ..hooks import NAME
from ..model import ModelSpec
from . import spec
from .loading import PluginFailure, find_plugins, strict

BUILTIN_PLUGINS = {"zoo-converters": builtin_converters, "zoo-checks": builtin_checks}  # always loaded
T = TypeVar("T")


def _default_warn(message: str) -> None:
    print(f"zoo: warning: {message}", file=sys.stderr)


class PluginManager:
    """Loads plugins and knows what they registered. ``warn`` receives one line per plugin fault."""

    def __init__(self, warn: Callable[[str], None] = _default_warn) -> None:
        self._pm = pluggy.PluginManager(NAME)
        self._pm.add_hookspecs(spec)
        self._warn = warn
        self._dists: dict[str, str] = {}
        self._registries: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}  # hook -> (items, owner plugin)
        self.failures: list[PluginFailure] = []
        self.disabled: list[PluginFailure] = []
        for name, module in BUILTIN_PLUGINS.items():
            self.register(module, name, "zoo")

    def _fail(self, name: str, dist: str, reason: str) -> None:
        message = f"plugin '{name}' from distribution '{dist}' was skipped: {reason}"
        if strict():
            raise ZooError(f"{message} (ZOO_STRICT_PLUGINS is set)")
        self.failures.append(PluginFailure(name, dist, reason))
        self._warn(f"{message} (set ZOO_STRICT_PLUGINS=1 to make this fatal)")

    def load_entry_points(self) -> None:
        found = find_plugins(set(BUILTIN_PLUGINS), {name for name, _ in self._pm.list_name_plugin()})
        for failure in found.failures:
            self._fail(failure.name, failure.distribution, failure.reason)
        self.disabled += found.disabled
        for message in found.warnings:
            self._warn(message)
        for name, dist, module in found.modules:
            self.register(module, name, dist)

    def register(self, plugin: ModuleType | object, name: str, distribution: str = "(registered in process)") -> None:
        try:
            self._pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            self._fail(name, distribution, f"{type(exc).__name__}: {exc}")
            return
        self._dists[name] = distribution
        self._registries.clear()

    def _describe(self, plugin: str) -> str:
        return f"{plugin} (distribution '{self._dists.get(plugin, '?')}')"

    def _call(self, impl: Any, hook: str, **kwargs: Any) -> tuple[bool, Any]:
        """One plugin's ``hook``; one that raises is skipped with a warning naming the plugin."""
        try:
            return True, impl.function(**kwargs)
        except Exception as exc:  # noqa: BLE001 - a plugin's hook may raise anything: it is skipped
            reason = str(exc) if isinstance(exc, ZooError) else f"{type(exc).__name__}: {exc}"
            self._fail(impl.plugin_name, self._dists.get(impl.plugin_name, "?"), f"its {hook} hook: {reason}")
            return False, None

    def _impls(self, hook: str) -> list[Any]:
        return list(getattr(self._pm.hook, hook).get_hookimpls())  # in registration order

    def _registry(self, hook: str, kind: type[T], what: str, key: str = "name") -> tuple[dict[str, T], dict[str, str]]:
        """What the plugins register through ``hook(register=...)``, by ``key``, and the plugin that registered
        each. Items of the wrong type are skipped with a warning; one key registered twice is an error naming both."""
        if hook not in self._registries:
            items: dict[str, Any] = {}
            owners: dict[str, str] = {}
            for impl in self._impls(hook):
                plugin, registered = impl.plugin_name, list[Any]()
                ok, _ = self._call(impl, hook, register=registered.append)
                for item in registered if ok else []:
                    if not isinstance(item, kind):
                        dist = self._dists.get(plugin, "?")
                        self._fail(plugin, dist, f"register() got {type(item).__name__}, expected {kind.__name__}")
                        continue
                    name = getattr(item, key)
                    if name in items:
                        raise ZooError(
                            f"{what} '{name}' is registered twice: by {self._describe(owners[name])} and "
                            f"by {self._describe(plugin)}; uninstall or disable one of them"
                        )
                    items[name], owners[name] = item, plugin
            self._registries[hook] = (items, owners)
        return self._registries[hook]

    def models(self) -> dict[str, ModelSpec]:
        """Every registered model by name; two plugins claiming one name is an error naming both."""
        return self._registry("zoo_register_models", ModelSpec, "model")[0]

    def converters(self) -> dict[str, Converter]:
        """Every registered converter by name (zoo's own and the plugins')."""
        return self._registry("zoo_register_converters", Converter, "converter")[0]

    def rules(self) -> dict[str, Rule]:
        """Every registered release-checklist rule by id (zoo's own and the plugins')."""
        return self._registry("zoo_register_checks", Rule, "check rule", key="id")[0]

    def rules_for(self, model: ModelSpec) -> dict[str, Rule]:
        """The rules that judge ``model``: zoo's own, those of the plugin that registered it, and those other
        plugins registered with ``scope="all"``."""
        rules, owners = self._registry("zoo_register_checks", Rule, "check rule", key="id")
        mine = self.owner_name(model.name)
        return {
            rid: rule
            for rid, rule in rules.items()
            if owners[rid] in BUILTIN_PLUGINS or owners[rid] == mine or rule.scope == "all"
        }

    def foreign_rules(self, model: ModelSpec) -> dict[str, str]:
        """Rules another plugin registered for every model (``scope="all"``) that judge ``model``: id -> plugin."""
        rules, owners = self._registry("zoo_register_checks", Rule, "check rule", key="id")
        mine = self.owner_name(model.name)
        return {
            rid: self._describe(owners[rid])
            for rid, rule in rules.items()
            if rule.scope == "all" and owners[rid] not in BUILTIN_PLUGINS and owners[rid] != mine
        }

    def doc_templates(self, model: ModelSpec) -> list[DocTemplates]:
        """Template folders for ``model``: its spec's ``doc_templates`` first, then the plugins' answers to
        ``zoo_doc_templates`` (a hook that raises or answers something else is skipped with a warning)."""
        folders = [DocTemplates(model.doc_templates)] if model.doc_templates else []
        for impl in reversed(self._impls("zoo_doc_templates")):
            plugin = impl.plugin_name
            ok, answer = self._call(impl, "zoo_doc_templates", model=model)
            if not ok or answer is None:
                continue
            if not isinstance(answer, DocTemplates):
                self._warn(
                    f"plugin {self._describe(plugin)}: zoo_doc_templates answered {type(answer).__name__}, "
                    f"not DocTemplates; ignored"
                )
                continue
            folders.append(answer)
        return folders

    def owner_name(self, model: str) -> str:
        self.models()
        return self._registry("zoo_register_models", ModelSpec, "model")[1][model]

    def owner(self, model: str) -> str:
        """``plugin (distribution 'dist')`` of the plugin that registered ``model``."""
        return self._describe(self.owner_name(model))

    def get(self, name: str) -> ModelSpec:
        models = self.models()
        if name not in models:
            raise UsageError(f"unknown model '{name}'{did_you_mean(name, models)}")
        return models[name]

    def plugins(self) -> list[dict[str, Any]]:
        """What ``zoo plugins`` shows: each loaded plugin with distribution, version, models and hooks."""
        owners = self._registry("zoo_register_models", ModelSpec, "model")[1]
        rows = []
        for name, plugin in self._pm.list_name_plugin():
            dist = self._dists.get(name, "?")
            try:
                version = importlib_metadata.version(dist)
            except (importlib_metadata.PackageNotFoundError, ValueError):
                version = None
            hooks = sorted(caller.name for caller in self._pm.get_hookcallers(plugin) or [])
            models = sorted(m for m, owner in owners.items() if owner == name)
            rows.append({"name": name, "distribution": dist, "version": version, "models": models, "hooks": hooks})
        return rows

    def stage_finished(self, record: Any) -> None:
        """Tell the observers; one that raises is a warning, never a failed stage."""
        for impl in self._impls("zoo_stage_finished"):
            try:
                impl.function(record=record)
            except Exception as exc:  # noqa: BLE001 - an observer must not fail the stage
                self._warn(
                    f"plugin {self._describe(impl.plugin_name)}: its zoo_stage_finished hook raised "
                    f"{type(exc).__name__}: {exc}"
                )


def default_manager() -> PluginManager:
    """A manager with every installed plugin loaded."""
    manager = PluginManager()
    manager.load_entry_points()
    return manager
