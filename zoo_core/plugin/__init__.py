# SPDX-License-Identifier: Apache-2.0
"""The plugin contract. The shortest plugin is a module with one hook, named in an entry point::

    # pyproject.toml
    [project.entry-points."zoo.plugins"]
    mymodel = "my_package.plugin"

    # my_package/plugin.py
    from zoo_core import ModelSpec, hookimpl

    ZOO_API_VERSION = 2  # the plugin API this module was written for

    @hookimpl
    def zoo_register_models(register):
        register(ModelSpec(name="mymodel", metadata=..., config_cls=..., presets={"default": {}},
                           stages={"train": "my_package.train:run"}, metrics=[...]))

The hooks and their arguments are in :mod:`zoo_core.plugin.spec`; the markers live in :mod:`zoo_core.hooks`.
"""

from __future__ import annotations

from ..hooks import API_VERSION, ENTRY_POINT_GROUP, NAME, hookimpl, hookspec

__all__ = ["API_VERSION", "ENTRY_POINT_GROUP", "NAME", "hookimpl", "hookspec"]
