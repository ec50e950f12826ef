"""Build and publish catalog and interaction events for the API routes."""

import asyncio
import time

import structlog
from fastapi import HTTPException, status

from connectors.kafka_producer import EventProducer, KafkaUnavailableError
from schemas.envelope import CloudEvent, child_traceparent
from schemas.events import Payload
from schemas.topics import TopicSpec
from tidings.ids import derived_event_id

log = structlog.get_logger(__name__)


def default_version() -> int:
    """Return the time in microseconds since the Unix epoch."""
    return time.time_ns() // 1000


def catalog_key(tenant_id: str, entity_id: str) -> str:
    return f"{tenant_id}:{entity_id}"


def new_event(
    spec: TopicSpec,
    tenant_id: str,
    subject: str,
    payload: Payload,
    event_id: str,
    request_id: str | None,
    traceparent: str | None,
) -> CloudEvent:
    return CloudEvent(
        id=event_id,
        type=spec.event_type,
        source="tidings/api",
        subject=subject,
        tenantid=tenant_id,
        requestid=request_id,
        traceparent=child_traceparent(traceparent),
        data=payload.model_dump(mode="json"),
    )


def product_event_id(tenant_id: str, product_id: str, version: int, kind: str) -> str:
    """The same product, version and kind always give the same event id."""
    return derived_event_id(tenant_id, "product", product_id, version, kind)


async def publish_all(
    producer: EventProducer,
    tenant_id: str,
    events: list[tuple[TopicSpec, str, CloudEvent]],
) -> None:
    """Publish (topic, key, event) triples and wait until Kafka acknowledged all.

    Raises HTTP 503 when any one is not acknowledged. Events acknowledged
    before the failure stay published, and sending the same request again
    is safe, because consumers apply each version once.
    """
    outcomes = await asyncio.gather(
        *(producer.publish(spec, key, event) for spec, key, event in events),
        return_exceptions=True,
    )
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    if not failures:
        return
    for failure in failures:
        if not isinstance(failure, KafkaUnavailableError):
            raise failure
    log.error(
        "catalog_events_not_accepted",
        tenant_id=tenant_id,
        events=len(events),
        failed=len(failures),
        error=str(failures[0]),
    )
    raise HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail="Kafka is unavailable, so the request was not accepted; "
        "send the same request again later",
        headers={"Retry-After": "5"},
    ) from failures[0]
