"""Kafka records for the history unit tests."""

from datetime import UTC, datetime

from confluent_kafka import Message

from schemas.envelope import CloudEvent

EVENT = CloudEvent(
    type="dev.tidings.document.indexed.v1",
    source="tidings/worker/worker-1",
    subject="doc_1",
    tenantid="tnt_a",
    data={"document_id": "doc_1", "chunk_count": 3},
    time=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
)


def record(
    headers: list[tuple[str, bytes]] | None = None, value: bytes | None = None
) -> Message:
    return Message(
        topic="tidings.document.indexed.v1",
        partition=1,
        offset=42,
        key=b"doc_1",
        value=EVENT.to_value() if value is None else value,
        headers=EVENT.to_headers() if headers is None else headers,
        timestamp=(1, 1_767_323_045_679),
    )
