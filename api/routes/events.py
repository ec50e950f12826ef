"""`GET /v1/events`: the tenant's verification job events as server-sent events."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

import structlog
from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.deps import TenantDep
from api.event_hub import OVERFLOW, EventHub, Subscription
from connectors.verification.settings import VerificationSettings
from schemas.envelope import SPEC_VERSION, CloudEvent

router = APIRouter(prefix="/v1", tags=["events"])
log = structlog.get_logger(__name__)

HUB_READY_TIMEOUT_SECONDS = 10.0
RESYNC_EVENT = "tidings.resync"


def get_event_hub(request: Request) -> EventHub:
    hub: EventHub = request.app.state.event_hub
    return hub


def structured(event: CloudEvent) -> str:
    """Return the event in CloudEvents structured JSON form."""
    document = {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "type": event.type,
        "source": event.source,
        "subject": event.subject,
        "time": event.time.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "requestid": event.requestid,
        "traceparent": event.traceparent,
        "data": event.data,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def to_sse(event: CloudEvent) -> ServerSentEvent:
    return ServerSentEvent(data=structured(event), event=event.type, id=event.id)


def resync(detail: str) -> ServerSentEvent:
    """Return the event that warns a client that it may have missed events."""
    return ServerSentEvent(data=json.dumps({"detail": detail}), event=RESYNC_EVENT)


async def _stream(
    hub: EventHub, subscription: Subscription, last_event_id: str | None
) -> AsyncIterator[ServerSentEvent]:
    try:
        if subscription.resume_failed:
            yield resync(
                f"event {last_event_id} is not among the recent events this "
                "server keeps; events may have been missed, so read the jobs' "
                "state before relying on the stream"
            )
        for event in subscription.replay:
            yield to_sse(event)
        while True:
            item = await subscription.queue.get()
            if item is OVERFLOW:
                yield resync(
                    "the client read events too slowly and was disconnected; "
                    "reconnect with the Last-Event-ID header"
                )
                return
            assert isinstance(item, CloudEvent)
            yield to_sse(item)
    finally:
        hub.unsubscribe(subscription)
        log.info("event_stream_closed", tenant_id=subscription.tenant_id)


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    request: Request,
    tenant: TenantDep,
    job_id: Annotated[
        str | None,
        Query(max_length=200, description="Only events of this verification job."),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Id of the last event received; the stream goes on after "
            "it when the server still has it.",
        ),
    ] = None,
) -> EventSourceResponse:
    """Stream your verification job events live as server-sent events.

    Each event has `id:` set to the CloudEvent id, `event:` set to its type
    (for example `dev.tidings.verification.completed.v1`) and `data:` set to
    the CloudEvent in structured JSON. Event types: verification requested,
    checked, completed and callback-attempted. A comment line is sent at a
    fixed interval, so proxies keep an idle stream open. Reconnect with the
    `Last-Event-ID` header to get the events after that one. When the server
    no longer has that event, the stream starts with a `tidings.resync` event.
    """
    hub = get_event_hub(request)
    try:
        await asyncio.wait_for(hub.ready.wait(), HUB_READY_TIMEOUT_SECONDS)
    except TimeoutError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="The event stream is not connected to Kafka yet; retry in a "
            "few seconds",
        ) from exc

    subscription = hub.subscribe(tenant.tenant_id, job_id, last_event_id)
    log.info(
        "event_stream_opened",
        tenant_id=tenant.tenant_id,
        job_id=job_id,
        resumed=last_event_id is not None and not subscription.resume_failed,
    )
    heartbeat = VerificationSettings().events_heartbeat_seconds
    return EventSourceResponse(
        _stream(hub, subscription, last_event_id),
        ping=heartbeat,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
