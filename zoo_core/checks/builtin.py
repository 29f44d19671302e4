# SPDX-License-Identifier: Apache-2.0
"""zoo's own release-checklist rules (notes/checklist_rules.md), registered through ``zoo_register_checks``: the
README's fields and metadata, the README as a whole, the commands it shows, and the plugin's sources. They judge
every model."""

from __future__ import annotations

from ..hooks import hookimpl
from . import commands, metadata_rules, readme_rules, sources

BUILTIN = [*readme_rules.RULES[:1], *metadata_rules.RULES, *readme_rules.RULES[1:], *commands.RULES, *sources.RULES]


@hookimpl
def zoo_register_checks(register) -> None:
    for rule in BUILTIN:
        register(rule)
