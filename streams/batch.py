"""Batched record handling: decode each record, handle the batch at once.

Stages whose work gains from batching (one model call and one transaction for
hundreds of products) read with `take_events`. Faust acknowledges the batch's
offsets only after the handler returns, so processing stays at-least-once.
A record that cannot be decoded goes to the DLQ alone. If the batch fails on
bad data, the records run again one at a time, so only the bad one is
dead-lettered. Outages are retried with backoff, as in `streams.stage`.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import faust
import psycopg
import structlog

from schemas.envelope import CloudEvent, from_record
from streams.runtime import Runtime
from streams.stage import (
    POISON_ERRORS,
    TRANSIENT_ERRORS,
    backoff_delay,
    send_to_dlq,
)

log = structlog.get_logger(__name__)

BatchHandler = Callable[[list[CloudEvent], Runtime], Awaitable[None]]
Validator = Callable[[CloudEvent], object]

# Errors that one bad record causes for the whole batch.
BAD_DATA_ERRORS: tuple[type[BaseException], ...] = (
    *POISON_ERRORS,
    psycopg.DataError,
    psycopg.IntegrityError,
)


@dataclass(frozen=True)
class RawRecord:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    position: dict[str, Any]

    @classmethod
    def of(cls, event: faust.EventT) -> "RawRecord":
        message = event.message
        headers = event.headers
        pairs = list(headers.items()) if isinstance(headers, dict) else headers
        return cls(
            topic=message.topic,
            key=event.key,
            value=event.value,
            headers=list(pairs or []),
            position={
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
            },
        )


async def _retry_outages(stage: str, call: Callable[[], Awaitable[None]]) -> None:
    attempt = 0
    while True:
        try:
            await call()
            return
        except TRANSIENT_ERRORS as exc:
            attempt += 1
            delay = backoff_delay(attempt)
            log.warning(
                "batch_retry",
                stage=stage,
                attempt=attempt,
                delay_seconds=round(delay, 2),
                error=str(exc),
            )
            await asyncio.sleep(delay)


async def _dead_letter(
    runtime: Runtime, stage: str, record: RawRecord, error: BaseException
) -> None:
    log.error("event_dead_lettered", stage=stage, error=str(error), **record.position)
    await send_to_dlq(
        runtime,
        record.topic,
        record.key,
        record.value,
        record.headers,
        error,
        stage,
    )


async def process_batch(
    runtime: Runtime,
    stage: str,
    handler: BatchHandler,
    validate: Validator,
    records: list[RawRecord],
) -> None:
    """Run a batch of records through a handler with dead-lettering."""
    events: list[CloudEvent] = []
    sources: list[RawRecord] = []
    for record in records:
        try:
            event = from_record(record.headers, record.value)
            validate(event)
        except POISON_ERRORS as exc:
            await _dead_letter(runtime, stage, record, exc)
            continue
        events.append(event)
        sources.append(record)
    if not events:
        return

    try:
        await _retry_outages(stage, lambda: handler(events, runtime))
        log.debug("batch_processed", stage=stage, events=len(events))
        return
    except BAD_DATA_ERRORS as exc:
        log.warning("batch_split", stage=stage, events=len(events), error=str(exc))

    for event, record in zip(events, sources, strict=True):
        try:
            await _retry_outages(stage, lambda e=event: handler([e], runtime))
        except BAD_DATA_ERRORS as exc:
            await _dead_letter(runtime, stage, record, exc)


async def consume_batches(
    runtime: Runtime,
    stage: str,
    stream: faust.StreamT,
    handler: BatchHandler,
    validate: Validator,
    *,
    max_records: int = 256,
    within_seconds: float = 0.5,
) -> None:
    """Feed a Faust stream to a batch handler, `max_records` at a time."""
    await runtime.open()
    async for events in stream.take_events(max_records, within=within_seconds):
        records = [RawRecord.of(event) for event in events]
        await process_batch(runtime, stage, handler, validate, records)
