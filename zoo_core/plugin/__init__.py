# SPDX-License-Identifier: Apache-2.0
"""The plugin contract. The shortest plugin is a module with one hook, named in an entry point::

    # pyproject.toml
    [project.entry-points."zoo.plugins"]
    mymodel = "my_package.plugin"

    # my_package/plugin.py
    from zoo_core import ModelSpec, hookimpl

    ZOO_API_VERSION = 1  # the plugin API this module was written for

    @hookimpl
    def zoo_register_models(register):
        register(ModelSpec(name="mymodel", metadata=..., config_cls=..., presets={"default": {}},
                           stages={"train": train}))

The hooks and their arguments are in :mod:`zoo_core.plugin.spec`.
"""

from __future__ import annotations

import pluggy

NAME = "zoo"
#: Version of the plugin API (hooks, ModelSpec, StageContext, record contract). A plugin module sets
#: ``ZOO_API_VERSION`` to the version it was written for; another value is refused with a clear message.
API_VERSION = 1
ENTRY_POINT_GROUP = "zoo.plugins"
hookimpl = pluggy.HookimplMarker(NAME)
hookspec = pluggy.HookspecMarker(NAME)

__all__ = ["API_VERSION", "ENTRY_POINT_GROUP", "NAME", "hookimpl", "hookspec"]
