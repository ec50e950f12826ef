"""Batched record handling: poison records and bad data go to the DLQ alone."""

import psycopg
import pytest

from schemas.envelope import CloudEvent
from streams.batch import RawRecord, process_batch
from streams.runtime import Runtime
from tidings.settings import Settings

TOPIC = "tidings.catalog.product-upserted.v1"


class RecordingProducer:
    def __init__(self) -> None:
        self.dead_letters: list[tuple[str, bytes | None]] = []

    async def publish_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> None:
        self.dead_letters.append((topic, value))


def record(subject: str, value: bytes | None = None) -> RawRecord:
    event = CloudEvent(
        type="dev.tidings.catalog.product-upserted.v1",
        source="test",
        subject=subject,
        tenantid="t1",
        data={"product_id": subject},
    )
    return RawRecord(
        topic=TOPIC,
        key=subject.encode(),
        value=event.to_value() if value is None else value,
        headers=event.to_headers(),
        position={"topic": TOPIC, "partition": 0, "offset": 0},
    )


@pytest.fixture()
def runtime() -> tuple[Runtime, RecordingProducer]:
    producer = RecordingProducer()
    runtime = Runtime(settings=Settings(database_url="postgresql://unused"))
    runtime.producer = producer  # type: ignore[assignment]
    return runtime, producer


async def test_undecodable_record_dead_lettered_alone(
    runtime: tuple[Runtime, RecordingProducer],
) -> None:
    stage_runtime, producer = runtime
    handled: list[str] = []

    async def handler(events: list[CloudEvent], _: Runtime) -> None:
        handled.extend(event.subject for event in events)

    records = [record("good"), record("broken", value=b"not json")]
    await process_batch(stage_runtime, "catalog", handler, lambda e: e, records)

    assert handled == ["good"]
    assert producer.dead_letters == [(f"{TOPIC}.dlq", b"not json")]


async def test_bad_data_splits_batch(
    runtime: tuple[Runtime, RecordingProducer],
) -> None:
    stage_runtime, producer = runtime
    handled: list[str] = []

    async def handler(events: list[CloudEvent], _: Runtime) -> None:
        if any(event.subject == "bad" for event in events):
            raise psycopg.DataError("numeric field overflow")
        handled.extend(event.subject for event in events)

    records = [record("first"), record("bad"), record("last")]
    await process_batch(stage_runtime, "catalog", handler, lambda e: e, records)

    assert handled == ["first", "last"]
    assert [topic for topic, _ in producer.dead_letters] == [f"{TOPIC}.dlq"]
