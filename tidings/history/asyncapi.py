"""AsyncAPI 3.0 document of every Tidings topic, generated from the registry.

Channels are the registry's topics and their dead-letter topics; messages
carry the CloudEvents headers schema, the Kafka key and the payload model's
JSON Schema. Operations describe Tidings as the application: it sends every
event, and its stages receive the topics listed in `TopicSpec.consumed_by`.
"""

import json
from typing import Any

from schemas.events import PAYLOADS, Payload
from schemas.topics import TOPICS, TopicSpec
from tidings import __version__

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
SERVER_NAME = "kafka"
HEADERS_SCHEMA = "CloudEventHeaders"
DEAD_LETTER_HEADERS_SCHEMA = "DeadLetterHeaders"
DEAD_LETTER_MESSAGE = "tidings.dead-letter"

DESCRIPTION = """\
Every event Tidings publishes, one channel per Kafka topic.

- Topic names follow `tidings.<domain>.<event>.v<major>`; a breaking payload
  change gets a new topic with the next major version.
- Events are CloudEvents 1.0 in Kafka binary content mode: the attributes
  are `ce_*` headers and the record value is the JSON payload.
- The record key is the entity whose order matters, so events of one entity
  stay in one partition and in order. The tenant id is always in the
  `ce_tenantid` header.
- Delivery is at least once: de-duplicate on `ce_id`.
- A record that a Tidings stage cannot process goes to `<topic>.dlq` with the
  original headers plus `tidings_error`, `tidings_stage` and
  `tidings_source_topic`.

The guide for downstream consumers is `docs/downstream.md` in the Tidings
repository.
"""

CLOUD_EVENT_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes in Kafka binary content mode: one "
    "header `ce_<attribute>` per attribute, with a UTF-8 value.",
    "required": [
        "ce_specversion",
        "ce_id",
        "ce_type",
        "ce_source",
        "ce_time",
        "ce_subject",
        "ce_tenantid",
    ],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {
            "type": "string",
            "description": "Unique id of the event. A redelivered event keeps "
            "its id, so consumers de-duplicate on it.",
        },
        "ce_type": {"type": "string", "description": "Event type, with version."},
        "ce_source": {
            "type": "string",
            "description": "Producer: `tidings/api` or `tidings/worker/<worker id>`.",
        },
        "ce_time": {
            "type": "string",
            "format": "date-time",
            "description": "When the event happened (RFC 3339, UTC).",
        },
        "ce_subject": {
            "type": "string",
            "description": "The entity the event is about, such as a document id.",
        },
        "ce_tenantid": {"type": "string", "description": "Tenant that owns it."},
        "ce_requestid": {
            "type": "string",
            "description": "The caller's idempotency key, where there is one.",
        },
        "ce_traceparent": {
            "type": "string",
            "pattern": "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
            "description": "W3C trace context; every event of one request "
            "shares the trace id.",
        },
        "content-type": {"type": "string", "const": "application/json"},
    },
}

DEAD_LETTER_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "The original record's headers (the `ce_*` headers when it "
    "had them) plus three that say why it was dead-lettered.",
    "required": ["tidings_error", "tidings_stage", "tidings_source_topic"],
    "properties": {
        "tidings_error": {
            "type": "string",
            "description": "Exception type and message, at most 1000 characters.",
        },
        "tidings_stage": {
            "type": "string",
            "description": "The stage (Faust agent) that could not process it.",
        },
        "tidings_source_topic": {
            "type": "string",
            "description": "The topic the record was read from.",
        },
    },
}


def _payload_schema(model: type[Payload], schemas: dict[str, Any]) -> dict[str, Any]:
    """Return a reference to the model's schema, adding it and its nested
    definitions to `schemas`."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, nested in schema.pop("$defs", {}).items():
        if schemas.setdefault(name, nested) != nested:
            raise ValueError(
                f"two payload models define different schemas named {name!r}; "
                "rename one of the nested models"
            )
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _message(spec: TopicSpec, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": spec.event_type,
        "title": spec.event_type,
        "summary": spec.description,
        "contentType": "application/json",
        "headers": {
            "allOf": [
                {"$ref": f"#/components/schemas/{HEADERS_SCHEMA}"},
                {"properties": {"ce_type": {"const": spec.event_type}}},
            ]
        },
        "payload": payload,
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"The {spec.key}."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": DEAD_LETTER_MESSAGE,
        "title": "Dead-lettered record",
        "summary": "A record that a Tidings stage could not decode or validate.",
        "contentType": "application/octet-stream",
        "headers": {"$ref": f"#/components/schemas/{DEAD_LETTER_HEADERS_SCHEMA}"},
        "payload": {
            "description": "The original record value, unchanged. It may be "
            "invalid JSON, which can be why it was dead-lettered."
        },
    }


def _channel(
    spec: TopicSpec, name: str, message_id: str, partitions: int, replicas: int
) -> dict[str, Any]:
    dead_letter = name != spec.name
    description = (
        f"Dead-letter topic of `{spec.name}`." if dead_letter else spec.description
    )
    return {
        "address": name,
        "title": name,
        "description": description,
        "servers": [{"$ref": f"#/servers/{SERVER_NAME}"}],
        "messages": {message_id: {"$ref": f"#/components/messages/{message_id}"}},
        "bindings": {
            "kafka": {
                "topic": name,
                "partitions": spec.partitions or partitions,
                "replicas": replicas,
                "topicConfiguration": {
                    "retention.ms": spec.retention_ms,
                    "cleanup.policy": [spec.cleanup_policy],
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operation(
    action: str, channel: str, message_id: str, summary: str
) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{message_id}"}],
    }


def _server(bootstrap: str) -> dict[str, Any]:
    hosts = [host.strip() for host in bootstrap.split(",") if host.strip()]
    return {
        "host": hosts[0],
        "protocol": "kafka",
        "description": "Kafka bootstrap servers: " + ", ".join(hosts) + ".",
    }


def build_document(
    bootstrap: str, *, partitions: int = 4, replicas: int = 1
) -> dict[str, Any]:
    """Build the AsyncAPI document for a cluster reached at `bootstrap`.

    `partitions` and `replicas` are what topics without their own partition
    count get at creation (TIDINGS_TOPIC_PARTITIONS, TIDINGS_TOPIC_REPLICATION).
    """
    schemas: dict[str, Any] = {
        HEADERS_SCHEMA: CLOUD_EVENT_HEADERS,
        DEAD_LETTER_HEADERS_SCHEMA: DEAD_LETTER_HEADERS,
    }
    messages: dict[str, Any] = {DEAD_LETTER_MESSAGE: _dead_letter_message()}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}

    for spec in TOPICS:
        model = PAYLOADS.get(spec.event_type)
        if model is None:
            raise ValueError(
                f"topic {spec.name} has event type {spec.event_type!r} but "
                "schemas/events.py registers no payload model for it"
            )
        message_id = spec.event_type
        messages[message_id] = _message(spec, _payload_schema(model, schemas))
        channels[spec.name] = _channel(
            spec, spec.name, message_id, partitions, replicas
        )
        channels[spec.dlq] = _channel(
            spec, spec.dlq, DEAD_LETTER_MESSAGE, partitions, replicas
        )

        operations[f"send.{spec.name}"] = _operation(
            "send", spec.name, message_id, f"Tidings publishes {spec.event_type}."
        )
        for stage in spec.consumed_by:
            operations[f"receive.{spec.name}.{stage}"] = _operation(
                "receive",
                spec.name,
                message_id,
                f"The Tidings stage `{stage}` consumes {spec.event_type}.",
            )
        operations[f"send.{spec.dlq}"] = _operation(
            "send",
            spec.dlq,
            DEAD_LETTER_MESSAGE,
            f"A Tidings stage dead-letters a record of {spec.name}.",
        )

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Tidings events",
            "version": __version__,
            "description": DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {SERVER_NAME: _server(bootstrap)},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def render_document(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
