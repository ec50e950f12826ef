"""One exported row per event: CloudEvents attributes, the payload as JSON text,
and where the record sits in Kafka."""

import json
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from confluent_kafka import Message

from schemas.envelope import HEADER_PREFIX, REQUIRED_ATTRIBUTES

# Column order of every export format.
COLUMNS = (
    "id",
    "type",
    "source",
    "subject",
    "time",
    "specversion",
    "tenantid",
    "requestid",
    "traceparent",
    "datacontenttype",
    "data",
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "kafka_timestamp",
    "kafka_key",
)


class EventRow(NamedTuple):
    """One event; the first fields are the export COLUMNS, in order."""

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    specversion: str | None
    tenantid: str
    requestid: str | None
    traceparent: str | None
    datacontenttype: str | None
    data: str  # the record value: a JSON object as text
    kafka_topic: str
    kafka_partition: int
    kafka_offset: int
    kafka_timestamp: datetime
    kafka_key: str | None
    # The record as read, for re-publishing; not an export column.
    headers: tuple[tuple[str, Any], ...] = ()
    key_bytes: bytes | None = None
    value_bytes: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = dict(zip(COLUMNS, self, strict=False))
        row["time"] = _iso(self.time)
        row["kafka_timestamp"] = _iso(self.kafka_timestamp)
        return row


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def record_millis(message: Message) -> int:
    """Return the record's timestamp in Unix milliseconds."""
    _, millis = message.timestamp()
    return int(millis)


def decode_row(message: Message, millis: int | None = None) -> EventRow | None:
    """Decode a Kafka record into a row, or None if it is no valid CloudEvent.

    Valid means: the required `ce_*` headers are present as UTF-8, `ce_time`
    parses, and the value is a JSON object. `millis` is the record timestamp,
    if the caller has read it already.
    """
    # This runs once per record in a replay, so it avoids helper calls.
    attributes: dict[str, str] = {}
    content_type = None
    # confluent-kafka's stubs type header pairs loosely, but each is (str, bytes).
    headers = tuple(cast(list[tuple[str, Any]], message.headers() or []))
    prefix_length = len(HEADER_PREFIX)
    try:
        for name, raw in headers:
            if not isinstance(raw, bytes):
                continue
            if name[:prefix_length] == HEADER_PREFIX:
                attributes[name[prefix_length:]] = raw.decode()
            elif name == "content-type":
                content_type = raw.decode()
        value = message.value() or b""
        data = value.decode() if isinstance(value, bytes) else value
        value = data.encode() if isinstance(value, str) else value
    except UnicodeDecodeError:
        return None
    for name in REQUIRED_ATTRIBUTES:
        if not attributes.get(name):
            return None
    try:
        time = datetime.fromisoformat(attributes["time"].replace("Z", "+00:00"))
        if not isinstance(json.loads(data), dict):
            return None
    except ValueError:
        return None
    if time.tzinfo is None:
        time = time.replace(tzinfo=UTC)

    topic, partition, offset = message.topic(), message.partition(), message.offset()
    if topic is None or partition is None or offset is None:
        return None
    key = message.key()
    if isinstance(key, str):
        key = key.encode()
    if millis is None:
        millis = record_millis(message)
    return EventRow(
        id=attributes["id"],
        type=attributes["type"],
        source=attributes["source"],
        subject=attributes["subject"],
        time=time,
        specversion=attributes.get("specversion"),
        tenantid=attributes["tenantid"],
        requestid=attributes.get("requestid"),
        traceparent=attributes.get("traceparent"),
        datacontenttype=content_type,
        data=data,
        kafka_topic=topic,
        kafka_partition=partition,
        kafka_offset=offset,
        kafka_timestamp=datetime.fromtimestamp(millis / 1000, UTC),
        kafka_key=key.decode(errors="replace") if key is not None else None,
        headers=headers,
        key_bytes=key,
        value_bytes=value,
    )
