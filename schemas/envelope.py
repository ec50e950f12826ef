"""CloudEvents 1.0 envelope in Kafka binary content mode.

Attributes travel as `ce_*` headers and the payload as JSON in the record value,
so any language can consume the events without a Tidings library.
"""

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
HEADER_PREFIX = "ce_"

# Attributes every Tidings event carries (extensions included).
REQUIRED_ATTRIBUTES = ("id", "type", "source", "time", "subject", "tenantid")


class EnvelopeError(ValueError):
    """A Kafka record is not a valid Tidings CloudEvent."""


@dataclass(frozen=True)
class CloudEvent:
    """One event: CloudEvents attributes plus a JSON payload."""

    type: str
    source: str
    subject: str
    tenantid: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    requestid: str | None = None
    traceparent: str | None = None

    def to_headers(self) -> list[tuple[str, bytes]]:
        """Encode the attributes as Kafka headers, skipping unset extensions."""
        attributes: dict[str, str | None] = {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "tenantid": self.tenantid,
            "requestid": self.requestid,
            "traceparent": self.traceparent,
        }
        headers = [
            (HEADER_PREFIX + name, value.encode())
            for name, value in attributes.items()
            if value is not None
        ]
        headers.append(("content-type", CONTENT_TYPE.encode()))
        return headers

    def to_value(self) -> bytes:
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":")).encode()

    @property
    def trace_id(self) -> str | None:
        return trace_id_of(self.traceparent)


def from_record(
    headers: list[tuple[str, bytes]] | dict[str, bytes] | None, value: bytes | None
) -> CloudEvent:
    """Decode a Kafka record written in binary content mode.

    Raises EnvelopeError naming the missing header or the JSON problem.
    """
    pairs = headers.items() if isinstance(headers, dict) else (headers or [])
    try:
        attributes = {
            name[len(HEADER_PREFIX) :]: raw.decode() if isinstance(raw, bytes) else raw
            for name, raw in pairs
            if name.startswith(HEADER_PREFIX)
        }
    except UnicodeDecodeError as exc:
        raise EnvelopeError(f"a ce_* header is not valid UTF-8: {exc}") from exc

    missing = [name for name in REQUIRED_ATTRIBUTES if not attributes.get(name)]
    if missing:
        names = ", ".join(HEADER_PREFIX + name for name in missing)
        raise EnvelopeError(f"record lacks the CloudEvents header(s) {names}")

    try:
        data = json.loads(value or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"record value is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EnvelopeError("record value must be a JSON object")

    try:
        time = datetime.fromisoformat(attributes["time"].replace("Z", "+00:00"))
    except ValueError as exc:
        raise EnvelopeError(f"invalid ce_time {attributes['time']!r}") from exc

    return CloudEvent(
        id=attributes["id"],
        type=attributes["type"],
        source=attributes["source"],
        subject=attributes["subject"],
        tenantid=attributes["tenantid"],
        time=time,
        requestid=attributes.get("requestid"),
        traceparent=attributes.get("traceparent"),
        data=data,
    )


def new_traceparent() -> str:
    """Start a W3C trace context: version 00, random trace and span ids, sampled."""
    return f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"


def child_traceparent(parent: str | None) -> str:
    """Continue the parent's trace with a new span id, or start a new trace."""
    trace_id = trace_id_of(parent)
    if trace_id is None:
        return new_traceparent()
    return f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"


def trace_id_of(traceparent: str | None) -> str | None:
    parts = (traceparent or "").split("-")
    if len(parts) != 4 or len(parts[1]) != 32:
        return None
    return parts[1]
