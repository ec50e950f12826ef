"""Publish an event caused by another, keeping tenant, request and trace."""

from schemas.envelope import CloudEvent, child_traceparent
from schemas.events import Payload
from schemas.topics import TopicSpec
from streams.runtime import Runtime
from tidings.ids import derived_event_id


async def emit(
    runtime: Runtime,
    spec: TopicSpec,
    cause: CloudEvent,
    payload: Payload,
    key: str,
    *,
    id_parts: tuple[str, ...] = (),
) -> CloudEvent:
    """Publish `payload` and wait for the broker's acknowledgement.

    The event id derives from the cause, so reprocessing the cause after a
    crash publishes an event with the same id, which consumers de-duplicate.
    Several events of one type from one cause differ by `id_parts`.
    """
    assert runtime.producer is not None
    event = CloudEvent(
        id=derived_event_id(cause.id, spec.event_type, *id_parts),
        type=spec.event_type,
        source=f"tidings/worker/{runtime.settings.worker_id}",
        subject=cause.subject,
        tenantid=cause.tenantid,
        requestid=cause.requestid,
        traceparent=child_traceparent(cause.traceparent),
        data=payload.model_dump(mode="json"),
    )
    await runtime.producer.publish(spec, key, event)
    return event
