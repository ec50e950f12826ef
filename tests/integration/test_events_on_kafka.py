"""What downstream consumers see on Kafka: envelopes, dead letters."""

import uuid

import httpx
import pytest
from confluent_kafka import Consumer, Producer

from schemas import topics
from schemas.envelope import from_record
from tests.integration.helpers import pdf_path, upload, wait_final
from tests.stack import Stack

pytestmark = pytest.mark.integration


def _read_all(stack: Stack, topic: str, timeout: float = 20.0) -> list:
    consumer = Consumer(
        {
            "bootstrap.servers": stack.kafka_bootstrap,
            "group.id": f"test-reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    records = []
    idle_polls = 0
    try:
        while idle_polls < int(timeout / 0.5):
            message = consumer.poll(0.5)
            if message is None or message.error():
                idle_polls += 1 if records else 0.25
                continue
            records.append(message)
            idle_polls = 0
    finally:
        consumer.close()
    return records


def test_uploaded_event_is_cloudevent(stack: Stack, api: httpx.Client) -> None:
    document_id = upload(api, pdf_path("pypdf__multilang.pdf")).json()["document_id"]
    wait_final(api, [document_id])

    records = _read_all(stack, topics.DOCUMENT_UPLOADED.name)
    mine = [r for r in records if r.key() == document_id.encode()]
    event = from_record(mine[0].headers(), mine[0].value())
    header_names = {name for name, _ in mine[0].headers()}

    assert event.type == topics.DOCUMENT_UPLOADED.event_type
    assert event.subject == document_id
    assert event.data["document_id"] == document_id
    assert {"ce_id", "ce_time", "ce_tenantid", "ce_traceparent"} <= header_names


def test_password_never_in_plaintext(stack: Stack, api: httpx.Client) -> None:
    path = pdf_path("pypdf__libreoffice-writer-password.pdf")
    document_id = upload(api, path, password="openpassword").json()["document_id"]
    final = wait_final(api, [document_id])[document_id]

    records = _read_all(stack, topics.DOCUMENT_UPLOADED.name)
    values = [r.value().decode() for r in records if r.key() == document_id.encode()]
    tokens = [
        from_record(r.headers(), r.value()).data["encrypted_password"]
        for r in records
        if r.key() == document_id.encode()
    ]

    assert final["status"] == "indexed"
    assert all("openpassword" not in value for value in values)
    assert any(token for token in tokens)


def test_pipeline_events_share_trace(stack: Stack, api: httpx.Client) -> None:
    document_id = upload(api, pdf_path("samplefiles__multicolumn.pdf")).json()[
        "document_id"
    ]
    wait_final(api, [document_id])

    traces = set()
    for spec in (
        topics.DOCUMENT_UPLOADED,
        topics.DOCUMENT_PARSED,
        topics.DOCUMENT_INDEXED,
    ):
        for record in _read_all(stack, spec.name):
            if record.key() == document_id.encode():
                traces.add(from_record(record.headers(), record.value()).trace_id)

    assert len(traces) == 1


def test_undecodable_record_goes_to_dlq(stack: Stack, api: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap})
    producer.produce(
        topics.DOCUMENT_UPLOADED.name, key=marker.encode(), value=b"{not json"
    )
    producer.flush(10)

    # The stage must go on: a good document after the poison one is indexed.
    document_id = upload(api, pdf_path("samplefiles__pdflatex-4-pages.pdf")).json()[
        "document_id"
    ]
    state = wait_final(api, [document_id])[document_id]
    dlq = _read_all(stack, topics.DOCUMENT_UPLOADED.dlq)
    dead = [dict(r.headers()) for r in dlq if r.key() == marker.encode()]

    # Two stages read the uploaded topic, and each reports the record once.
    assert state["status"] == "indexed"
    assert sorted(h["tidings_stage"] for h in dead) == [b"parse", b"status"]
    assert all(b"ce_id" in h["tidings_error"] for h in dead)
