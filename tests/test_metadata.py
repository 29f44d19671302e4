# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from zoo_core import ZooError, load_metadata
from zoo_core.metadata import ModelMetadata, format_validation_error

MCNN_METADATA = Path(__file__).parents[1] / "plugins" / "mcnn" / "metadata.yaml"


def good() -> dict:
    return yaml.safe_load(MCNN_METADATA.read_text())


def errors(data: dict) -> str:
    with pytest.raises(ValidationError) as info:
        ModelMetadata.model_validate(data)
    return format_validation_error("meta.yaml", info.value)


def test_mcnn_metadata_is_valid():
    meta = load_metadata(MCNN_METADATA)
    assert meta.domain_label == "Crowd Counting"
    assert len(meta.reference_implementation.commit_id) == 40


@pytest.mark.parametrize(
    "path, value, expected",
    [
        (("version",), "1.1.1", "version"),
        (("version",), "v1", "version"),
        (("modified",), "2020-12-04", "modified"),
        (("modified",), "2020.13.4", "not a calendar date"),
        (("reference_implementation", "commit_id"), "abc123", "reference_implementation.commit_id"),
        (("adapted_implementation", "code_path"), "", "adapted_implementation.code_path"),
        (("application_domain",), "Crowd", "'Classification'"),
        (("model_formats",), ["ckpt", "exe"], "model_formats.1"),
        (("model_formats",), ["ckpt", "ckpt"], "twice"),
        (("precision",), "FP64", "Mixed/FP16"),
        (("processors",), ["TPU"], "'Ascend910'"),
        (("category",), "Great", "'Benchmark'"),
        (("description", "en"), "One. Two.", "one sentence"),
        (("framework_version",), "latest", "framework_version"),
        (("paper", "url"), "not a url", "paper.url"),
        (("supported_features", "data_parallel"), "maybe", "supported_features.data_parallel"),
    ],
)
def test_bad_field_names_the_path(path, value, expected):
    data = good()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    message = errors(data)
    assert message.startswith("meta.yaml: ")
    assert expected in message


def test_other_domain_needs_a_note():
    data = good()
    del data["application_domain_note"]
    assert "application_domain_note" in errors(data)


def test_unknown_and_missing_fields_are_errors():
    data = good()
    data["size"] = "501K"
    del data["publisher"]
    message = errors(data)
    assert "size: Extra inputs are not permitted" in message
    assert "publisher: Field required" in message


def test_version_order_is_numeric():
    data = good()
    newer = ModelMetadata.model_validate(data | {"version": "1.15"})
    older = ModelMetadata.model_validate(data | {"version": "1.2"})
    assert newer.version_key > older.version_key


def test_load_metadata_reports_file(tmp_path):
    bad = tmp_path / "metadata.yaml"
    bad.write_text("publisher: [unclosed\n")
    with pytest.raises(ZooError, match="metadata.yaml: not valid YAML"):
        load_metadata(bad)
    data = good()
    data["version"] = "one"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ZooError, match=r"metadata.yaml: version: String should match pattern"):
        load_metadata(bad)
    bad.write_bytes(yaml.safe_dump(good(), allow_unicode=True).encode() + "publisher: Zoo S\xe9rl\n".encode("latin-1"))
    with pytest.raises(
        ZooError,
        match=r"metadata.yaml: not UTF-8 text \(byte 0xe9 at line \d+, column 17\); save the "
        r"file as UTF-8",
    ):
        load_metadata(bad)


def test_schema_command_prints_json_schema(cli):
    code, out, _ = cli("schema")
    schema = json.loads(out)
    assert code == 0
    assert {"publisher", "version", "reference_implementation", "supported_features"} <= set(schema["properties"])
    assert "size" not in schema["properties"]
    code, out, _ = cli("schema", "record")
    assert "fingerprint" in json.loads(out)["properties"]
