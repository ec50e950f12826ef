"""The AsyncAPI document: valid AsyncAPI 3.0 and true to the registry."""

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from schemas.events import PAYLOADS
from schemas.topics import TOPICS, TopicSpec
from streams.app import create_app
from tidings.cli import app
from tidings.history.asyncapi import build_document
from tidings.settings import Settings, get_settings

BOOTSTRAP = "127.0.0.1:9092"


def asyncapi_meta_schema() -> dict[str, Any]:
    """Load the AsyncAPI 3.0.0 JSON Schema that xstate-statemachine ships.

    The file is the AsyncAPI Initiative's bundled schemas/3.0.0.json (draft
    07, all definitions inline), so validation needs no network.
    """
    spec = importlib.util.find_spec("xstate_statemachine")
    assert spec is not None and spec.submodule_search_locations, (
        "xstate-statemachine is missing; install the test extra: "
        "pip install -e '.[test]'"
    )
    folder = Path(next(iter(spec.submodule_search_locations)))
    return json.loads((folder / "eda" / "_asyncapi_schema.json").read_text())


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(asyncapi_meta_schema())


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document(BOOTSTRAP, partitions=4, replicas=1)


def resolve_pointer(document: dict[str, Any], ref: str) -> Any:
    target: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        target = target[part]
    return target


def local_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in local_refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in local_refs(item)]
    return []


def test_meta_schema_is_asyncapi_3() -> None:
    meta = asyncapi_meta_schema()
    assert meta["$id"] == "http://asyncapi.com/definitions/3.0.0/asyncapi.json"
    assert meta["properties"]["asyncapi"]["const"] == "3.0.0"


def test_document_validates(
    validator: jsonschema.Draft7Validator, document: dict[str, Any]
) -> None:
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"
        for error in validator.iter_errors(document)
    ]
    assert errors == []


def test_invalid_document_rejected(
    validator: jsonschema.Draft7Validator, document: dict[str, Any]
) -> None:
    broken = copy.deepcopy(document)
    first = next(iter(broken["operations"].values()))
    first["action"] = "publish"  # AsyncAPI 2 wording, invalid in 3.0
    assert not validator.is_valid(broken)


def test_local_refs_resolve(document: dict[str, Any]) -> None:
    unresolved = []
    for ref in local_refs(document):
        try:
            resolve_pointer(document, ref)
        except (KeyError, TypeError):
            unresolved.append(ref)
    assert unresolved == []


@pytest.mark.parametrize("spec", TOPICS, ids=lambda spec: spec.name)
def test_topic_and_dlq_are_channels(document: dict[str, Any], spec: TopicSpec) -> None:
    assert document["channels"][spec.name]["address"] == spec.name
    assert document["channels"][spec.dlq]["address"] == spec.dlq


@pytest.mark.parametrize("spec", TOPICS, ids=lambda spec: spec.name)
def test_message_payload_is_model_schema(
    document: dict[str, Any], spec: TopicSpec
) -> None:
    message = document["components"]["messages"][spec.event_type]
    payload = resolve_pointer(document, message["payload"]["$ref"])
    expected = PAYLOADS[spec.event_type].model_json_schema(
        ref_template="#/components/schemas/{model}"
    )

    # Nested models move from $defs to the shared components.
    nested = expected.pop("$defs", {})
    assert payload == expected
    for name, schema in nested.items():
        assert document["components"]["schemas"][name] == schema


@pytest.mark.parametrize("spec", TOPICS, ids=lambda spec: spec.name)
def test_message_key_named(document: dict[str, Any], spec: TopicSpec) -> None:
    key = document["components"]["messages"][spec.event_type]["bindings"]["kafka"]
    assert spec.key in key["key"]["description"]


def test_headers_require_tenant(document: dict[str, Any]) -> None:
    headers = document["components"]["schemas"]["CloudEventHeaders"]
    assert {"ce_id", "ce_type", "ce_tenantid", "ce_time"} <= set(headers["required"])


@pytest.mark.parametrize("spec", TOPICS, ids=lambda spec: spec.name)
def test_history_retention_forever(document: dict[str, Any], spec: TopicSpec) -> None:
    binding = document["channels"][spec.name]["bindings"]["kafka"]
    assert binding["topicConfiguration"]["retention.ms"] == spec.retention_ms


def test_send_operation_per_topic(document: dict[str, Any]) -> None:
    sent = {
        operation["channel"]["$ref"].removeprefix("#/channels/")
        for operation in document["operations"].values()
        if operation["action"] == "send"
    }
    expected = {spec.name for spec in TOPICS} | {spec.dlq for spec in TOPICS}
    assert sent == expected


def test_consumed_by_matches_agents() -> None:
    app = create_app(Settings())
    read: dict[str, set[str]] = {}
    for name, agent in app.agents.items():
        for topic in agent.channel.topics:
            read.setdefault(topic, set()).add(name)
    declared = {spec.name: set(spec.consumed_by) for spec in TOPICS if spec.consumed_by}
    assert declared == read, (
        "TopicSpec.consumed_by in schemas/topics.py must name every Faust agent "
        "that reads the topic"
    )


def test_cli_prints_document() -> None:
    result = CliRunner().invoke(app, ["asyncapi"])
    settings = get_settings()
    expected = build_document(
        settings.resolved_kafka_bootstrap(),
        partitions=settings.topic_partitions,
        replicas=settings.topic_replication,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected
