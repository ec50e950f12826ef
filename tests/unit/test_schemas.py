"""Event contract: committed JSON Schema files, topic names and payload models."""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from schemas.events import PAYLOADS
from schemas.export import SCHEMA_DIR, render_schemas
from schemas.topics import TOPICS, TopicSpec, all_topic_names, spec_for_type

TOPIC_NAME = re.compile(r"^tidings\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.v[1-9][0-9]*$")
FRAMEWORK_PREFIXES = ("_", "faust")
EXPORT_COMMAND = "python -m schemas.export"


def topic_id(spec: TopicSpec) -> str:
    return spec.name


def major_version(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def property_names(schema: Any) -> Iterator[str]:
    """Yield every property name in a JSON Schema, nested definitions included."""
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            yield from properties
        for value in schema.values():
            yield from property_names(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from property_names(item)


# Committed JSON Schema files


def test_schema_files_match_models() -> None:
    committed = {path.name: path.read_text() for path in SCHEMA_DIR.glob("*.json")}
    assert committed == render_schemas(), (
        f"schemas/json differs from the payload models; run `{EXPORT_COMMAND}` "
        "from the repository root and commit the result"
    )


@pytest.mark.parametrize("name", sorted(render_schemas()))
def test_schema_file_exists(name: str) -> None:
    path = SCHEMA_DIR / name
    assert path.exists(), f"{path.name} is missing; run `{EXPORT_COMMAND}`"


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_schema_id_names_event_type(event_type: str) -> None:
    schema = json.loads(render_schemas()[f"{event_type}.json"])
    assert schema["$id"] == f"urn:tidings:schema:{event_type}"


# Topic registry


@pytest.mark.parametrize("spec", TOPICS, ids=topic_id)
def test_topic_name_pattern(spec: TopicSpec) -> None:
    assert TOPIC_NAME.match(spec.name), (
        f"{spec.name} does not match tidings.<domain>.<event>.v<major>"
    )


@pytest.mark.parametrize(
    "name",
    [
        "tidings.document.uploaded",
        "tidings.document.uploaded.v0",
        "tidings.Document.uploaded.v1",
        "other.document.uploaded.v1",
        "tidings.document.v1",
        "tidings.document.uploaded.v1.dlq",
    ],
)
def test_topic_pattern_rejects(name: str) -> None:
    assert TOPIC_NAME.match(name) is None


@pytest.mark.parametrize("spec", TOPICS, ids=topic_id)
def test_topic_type_has_payload(spec: TopicSpec) -> None:
    assert spec.event_type in PAYLOADS, f"no payload model for {spec.event_type}"


@pytest.mark.parametrize("spec", TOPICS, ids=topic_id)
def test_topic_type_same_major(spec: TopicSpec) -> None:
    assert major_version(spec.event_type) == major_version(spec.name)


@pytest.mark.parametrize("spec", TOPICS, ids=topic_id)
def test_spec_for_type_finds_topic(spec: TopicSpec) -> None:
    assert spec_for_type(spec.event_type) == spec


def test_spec_for_unknown_type() -> None:
    with pytest.raises(KeyError, match="dev.tidings.nothing.v1"):
        spec_for_type("dev.tidings.nothing.v1")


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_payload_has_topic(event_type: str) -> None:
    assert spec_for_type(event_type).event_type == event_type


def test_topic_names_unique() -> None:
    names = [spec.name for spec in TOPICS]
    assert len(names) == len(set(names))


def test_event_types_unique() -> None:
    types = [spec.event_type for spec in TOPICS]
    assert len(types) == len(set(types))


def test_every_topic_has_dlq() -> None:
    names = all_topic_names()
    for spec in TOPICS:
        assert f"{spec.name}.dlq" in names


def test_topic_names_without_dlq() -> None:
    assert all_topic_names(with_dlq=False) == [spec.name for spec in TOPICS]


@pytest.mark.parametrize("spec", TOPICS, ids=topic_id)
def test_history_topic_kept(spec: TopicSpec) -> None:
    # History topics are replayed, so time-based deletion is off.
    assert spec.retention_ms == -1


# Payload schemas


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_payload_no_framework_fields(event_type: str) -> None:
    schema = PAYLOADS[event_type].model_json_schema()
    framework = [
        name
        for name in property_names(schema)
        if name.lower().startswith(FRAMEWORK_PREFIXES)
    ]
    assert framework == [], f"{event_type} has framework fields {framework}"


def test_property_names_finds_nested() -> None:
    schema = {
        "properties": {"a": {}},
        "$defs": {"Inner": {"properties": {"_private": {}, "faust_blessed": {}}}},
    }
    assert sorted(property_names(schema)) == ["_private", "a", "faust_blessed"]
