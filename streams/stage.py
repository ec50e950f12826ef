"""Record handling shared by every stage: decode, retry, dead-letter.

A record that cannot be decoded or validated goes to `<topic>.dlq` with the
error and its original headers, and the stage goes on. An outage of Postgres,
Kafka or the object store is retried with backoff instead, because sending
good events to the DLQ during an outage would lose them.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import structlog
from pydantic import ValidationError

from connectors.kafka_producer import KafkaUnavailableError
from schemas.envelope import CloudEvent, EnvelopeError, from_record
from streams.runtime import Runtime

log = structlog.get_logger(__name__)

Handler = Callable[[CloudEvent, Runtime], Awaitable[None]]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    KafkaUnavailableError,
    OSError,
)
POISON_ERRORS: tuple[type[BaseException], ...] = (
    # Postgres rejects the values themselves (a NUL byte in text, say).
    psycopg.DataError,
    EnvelopeError,
    ValidationError,
    KeyError,
    ValueError,
)
MAX_BACKOFF_SECONDS = 30.0


def backoff_delay(attempt: int) -> float:
    """Return the wait before retry `attempt`: exponential with full jitter."""
    return random.uniform(0, min(MAX_BACKOFF_SECONDS, 0.5 * 2**attempt))


async def send_to_dlq(
    runtime: Runtime,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, bytes]],
    error: BaseException,
    stage: str,
) -> None:
    assert runtime.producer is not None
    dlq_headers = [
        *headers,
        ("tidings_error", f"{type(error).__name__}: {error}"[:1000].encode()),
        ("tidings_stage", stage.encode()),
        ("tidings_source_topic", topic.encode()),
    ]
    await runtime.producer.publish_raw(f"{topic}.dlq", key, value, dlq_headers)


async def process_record(
    runtime: Runtime,
    stage: str,
    handler: Handler,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    headers: Any,
    position: dict[str, Any],
) -> None:
    """Run one record through a handler with retries and dead-lettering."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    attempt = 0
    while True:
        try:
            event = from_record(pairs, value)
            bound = log.bind(
                stage=stage,
                tenant_id=event.tenantid,
                subject=event.subject,
                trace_id=event.trace_id,
                **position,
            )
            await handler(event, runtime)
            bound.debug("event_processed", event_type=event.type)
            return
        except POISON_ERRORS as exc:
            log.error("event_dead_lettered", stage=stage, error=str(exc), **position)
            await send_to_dlq(runtime, topic, key, value, pairs, exc, stage)
            return
        except TRANSIENT_ERRORS as exc:
            attempt += 1
            delay = backoff_delay(attempt)
            log.warning(
                "event_retry",
                stage=stage,
                attempt=attempt,
                delay_seconds=round(delay, 2),
                error=str(exc),
                **position,
            )
            await asyncio.sleep(delay)
