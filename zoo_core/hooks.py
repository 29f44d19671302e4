# SPDX-License-Identifier: Apache-2.0
"""The hook markers and the plugin API's version: the ground floor every part of zoo (and every plugin) can import.

The hooks themselves are specified in :mod:`zoo_core.plugin.spec`; the manager that calls them is
:mod:`zoo_core.plugin.manager`.
"""

from __future__ import annotations

import pluggy

NAME = "zoo"
#: Version of the plugin API (hooks, ModelSpec, StageContext, the typed stage results). A plugin module sets
#: ``ZOO_API_VERSION`` to the version it was written for; another value is refused with a clear message.
#: 2: typed stage results, declared metrics and capabilities, stages as "module:function" strings, the core's
#: training helper, convert stage and inference model lookup (docs/plugins.md, "Moving from API 1").
API_VERSION = 2
ENTRY_POINT_GROUP = "zoo.plugins"
hookimpl = pluggy.HookimplMarker(NAME)
hookspec = pluggy.HookspecMarker(NAME)
