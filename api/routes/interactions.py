"""Shopper interactions: views, clicks, cart additions and purchases."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Body, Header, HTTPException, status

from api.catalog_events import catalog_key, new_event, publish_all
from api.catalog_models import InteractionCreate, InteractionsAccepted
from api.deps import ServicesDep, TenantDep
from schemas import topics
from schemas.events import InteractionRecordedV1
from tidings.ids import derived_event_id

router = APIRouter(prefix="/v1", tags=["recommendations"])
log = structlog.get_logger(__name__)

MAX_INTERACTIONS = 1000


@router.post(
    "/interactions",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=InteractionsAccepted,
)
async def record_interactions(
    services: ServicesDep,
    tenant: TenantDep,
    body: Annotated[
        InteractionCreate | list[InteractionCreate],
        Body(description="One interaction, or a JSON array of them."),
    ],
    traceparent: Annotated[str | None, Header()] = None,
) -> InteractionsAccepted:
    """Record interactions. Returns 202 once Kafka has acknowledged them; they
    feed the session, user and together recommendations a moment later."""
    items = body if isinstance(body, list) else [body]
    if not items or len(items) > MAX_INTERACTIONS:
        raise HTTPException(
            422,
            detail=f"Send between 1 and {MAX_INTERACTIONS} interactions per "
            f"request, not {len(items)}",
        )

    now = datetime.now(UTC)
    events = []
    for item in items:
        event_id = (
            derived_event_id(tenant.tenant_id, "interaction", item.interaction_id)
            if item.interaction_id
            else str(uuid.uuid4())
        )
        payload = InteractionRecordedV1(
            kind=item.kind,
            session_id=item.session_id,
            user_id=item.user_id,
            product_id=item.product_id,
            occurred_at=item.occurred_at or now,
        )
        event = new_event(
            topics.INTERACTION_RECORDED,
            tenant.tenant_id,
            item.session_id,
            payload,
            event_id,
            item.interaction_id,
            traceparent,
        )
        key = catalog_key(tenant.tenant_id, item.session_id)
        events.append((topics.INTERACTION_RECORDED, key, event))

    await publish_all(services.producer, tenant.tenant_id, events)
    log.debug("interactions_accepted", tenant_id=tenant.tenant_id, count=len(events))
    return InteractionsAccepted(
        accepted=len(events), event_ids=[event.id for _, _, event in events]
    )
