# SPDX-License-Identifier: Apache-2.0
"""Model configuration: a typed pydantic class per model, named presets, YAML files and ``--set`` overrides.

Resolution order (later wins): the config class defaults, the preset, ``--config FILE.yaml``, each ``--set k=v``.
Every config field names the stage that reads it (``setting(..., stage="dataset")``) so the runner can tell
which settings a stage's outputs depend on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import UsageError, ZooError, did_you_mean, first_line
from .io import read_text


class ModelConfig(BaseModel):
    """Base class for a model's config: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def setting(default: Any, description: str, stage: str, **constraints: Any) -> Any:
    """A config field with the stage that reads it (shown in docs and used for stage fingerprints)."""
    return Field(default, description=description, json_schema_extra={"stage": stage}, **constraints)


def keys_for_stage(config_cls: type[ModelConfig], stage: str) -> list[str]:
    return [
        name
        for name, field in config_cls.model_fields.items()
        if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("stage") == stage
    ]


def describe_keys(config_cls: type[ModelConfig]) -> list[dict[str, Any]]:
    """Every config key with its type (as text), default, stage and description: for ``zoo info`` and the docs."""
    schema = config_cls.model_json_schema()["properties"]
    keys = []
    for name, field in config_cls.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        kind = schema[name].get("type") or " | ".join(
            str(option.get("type", option.get("const", "?"))) for option in schema[name].get("anyOf", [])
        )
        if "enum" in schema[name]:
            kind = " | ".join(str(v) for v in schema[name]["enum"])
        keys.append(
            {
                "name": name,
                "type": kind,
                "default": field.default,
                "stage": extra.get("stage", ""),
                "description": field.description or "",
            }
        )
    return keys


def fingerprint(config: ModelConfig, keys: Sequence[str], extra: Mapping[str, Any] | None = None) -> str:
    """A short hash of the given config values (and extra inputs), to tell whether an output is still current."""
    payload = {key: getattr(config, key) for key in keys} | dict(extra or {})
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def parse_set(item: str) -> tuple[str, Any]:
    """``key=value`` -> (key, value); the value is read as YAML (numbers, lists, booleans), else kept as text."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"--set {_shown(item)}: expected key=value, e.g. --set epochs=10")
    require_utf8(item, "--set")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, raw if value is None else value


def _validate(config_cls: type[ModelConfig], data: dict[str, Any], origin: Mapping[str, str]) -> ModelConfig:
    unknown = [key for key in data if key not in config_cls.model_fields]
    if unknown:
        key = unknown[0]
        raise UsageError(
            f"{origin.get(key, 'config')}: unknown config key '{key}'{did_you_mean(key, config_cls.model_fields)}"
        )
    try:
        return config_cls.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        if not err["loc"]:
            raise UsageError(f"config: {msg}") from None
        key = str(err["loc"][0])
        raise UsageError(f"{origin.get(key, 'config')}: {key}={data.get(key)!r}: {msg}") from None


def _shown(text: str) -> str:
    """``text`` with undecodable bytes (surrogates) as \\xNN, printable in any terminal."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def require_utf8(text: str, option: str) -> str:
    """``text`` from the command line, or a usage error if it holds bytes that are not UTF-8 (they arrive as
    surrogates and could not be written to a record)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(
            f"{option} {_shown(text)}: not valid UTF-8 (byte {_shown(text[exc.start])}); write it in UTF-8"
        ) from None
    return text


def load_config_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.safe_load(read_text(path, "config file")) or {}
    except yaml.YAMLError as exc:
        raise ZooError(f"{path}: not valid YAML ({first_line(exc)})") from None
    if not isinstance(data, dict):
        raise ZooError(f"{path}: a config file must be a mapping of key: value")
    return data


def resolve_config(
    config_cls: type[ModelConfig],
    presets: Mapping[str, Mapping[str, Any]],
    preset: str = "default",
    config_file: str | Path | None = None,
    sets: Sequence[str] = (),
) -> ModelConfig:
    """Build the validated config from a preset, an optional YAML file and ``key=value`` overrides."""
    if preset not in presets:
        raise UsageError(f"unknown preset '{preset}'{did_you_mean(preset, presets)}")
    data: dict[str, Any] = dict(presets[preset])
    origin = {key: f"preset '{preset}'" for key in data}
    if config_file is not None:
        from_file = load_config_file(config_file)
        data.update(from_file)
        origin.update({key: str(config_file) for key in from_file})
    for item in sets:
        key, value = parse_set(item)
        data[key] = value
        origin[key] = "--set"
    return _validate(config_cls, data, origin)
