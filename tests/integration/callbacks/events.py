"""Verification events that tests publish in place of the verify pipeline,
and readers of the events the stack publishes."""

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from confluent_kafka import Consumer

from connectors.kafka_producer import EventProducer
from schemas import topics
from schemas.envelope import CloudEvent, from_record, new_traceparent
from schemas.verification import (
    Subject,
    VerificationCheckedV1,
    VerificationCompletedV1,
    VerificationRequestedV1,
)
from tests.stack import Stack


def new_job_id() -> str:
    return f"job_{uuid.uuid4().hex[:20]}"


def _event(
    spec: topics.TopicSpec, tenant_id: str, job_id: str, payload: object
) -> CloudEvent:
    return CloudEvent(
        type=spec.event_type,
        source="tests/callbacks",
        subject=job_id,
        tenantid=tenant_id,
        traceparent=new_traceparent(),
        data=payload.model_dump(mode="json"),  # type: ignore[attr-defined]
    )


def requested_event(tenant_id: str, job_id: str) -> CloudEvent:
    payload = VerificationRequestedV1(
        job_id=job_id,
        subject=Subject(kind="company", name="Example Trading Ltd"),
        checks=["sanctions"],
        body_sha256=hashlib.sha256(job_id.encode()).hexdigest(),
    )
    return _event(topics.VERIFICATION_REQUESTED, tenant_id, job_id, payload)


def checked_event(tenant_id: str, job_id: str) -> CloudEvent:
    payload = VerificationCheckedV1(
        job_id=job_id,
        check="sanctions",
        status="clear",
        provider="builtin",
        score=0.0,
        attempts=0,
        duration_ms=3,
    )
    return _event(topics.VERIFICATION_CHECKED, tenant_id, job_id, payload)


def completed_event(
    tenant_id: str, job_id: str, callback_url: str | None
) -> CloudEvent:
    now = datetime.now(UTC)
    payload = VerificationCompletedV1(
        job_id=job_id,
        verdict="pass",
        score=0.05,
        checks={"sanctions": "clear"},
        callback_url=callback_url,
        requested_at=now,
        completed_at=now,
    )
    return _event(topics.VERIFICATION_COMPLETED, tenant_id, job_id, payload)


async def publish(stack: Stack, *events: CloudEvent) -> None:
    """Publish events in order, each acknowledged before the next is sent."""
    producer = EventProducer(stack.kafka_bootstrap)
    try:
        for event in events:
            await producer.publish(
                topics.spec_for_type(event.type), event.subject, event
            )
    finally:
        await asyncio.to_thread(producer.close)


def _read_matching(
    stack: Stack,
    spec: topics.TopicSpec,
    job_id: str,
    done: Callable[[list[CloudEvent]], bool],
    timeout: float,
) -> list[CloudEvent]:
    consumer = Consumer(
        {
            "bootstrap.servers": stack.kafka_bootstrap,
            "group.id": f"test-callbacks-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([spec.name])
    found: list[CloudEvent] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not done(found):
            message = consumer.poll(0.3)
            if message is None or message.error():
                continue
            if message.key() != job_id.encode():
                continue
            found.append(from_record(message.headers(), message.value()))
    finally:
        consumer.close()
    return found


async def read_attempts(
    stack: Stack,
    job_id: str,
    done: Callable[[list[CloudEvent]], bool],
    timeout: float = 90.0,
) -> list[CloudEvent]:
    """Return the job's callback-attempted events once `done` holds for them,
    or what arrived before the timeout."""
    return await asyncio.to_thread(
        _read_matching,
        stack,
        topics.VERIFICATION_CALLBACK_ATTEMPTED,
        job_id,
        done,
        timeout,
    )


def ended(events: list[CloudEvent]) -> bool:
    """Whether the last attempt so far ended the delivery."""
    return any(e.data["outcome"] != "failed" for e in events)


async def final_row(db: psycopg.Connection, tenant_id: str, job_id: str) -> tuple:
    """Return (status, attempts) of the job's delivery once it is final.

    The worker updates the row just after Kafka acknowledged the attempt's
    event, so a test that has read the event may still see the row before.
    """
    row = None
    for _ in range(100):
        row = db.execute(
            "SELECT status, attempts FROM webhook_deliveries "
            "WHERE tenant_id = %s AND job_id = %s",
            (tenant_id, job_id),
        ).fetchone()
        if row is not None and row[0] != "pending":
            break
        await asyncio.sleep(0.1)
    assert row is not None, f"no webhook_deliveries row for {job_id}"
    return row
